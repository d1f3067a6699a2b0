"""What the page needs to configure a job, from the data the cost model and the validators use:
GPU types and prices, presets, validation ranges, the page's sliders, job statuses, pricing version.
The page hard-codes none of it."""

from typing import Any

from pydantic import BaseModel

from pipeline.catalog.configuration import GpuConfig, JobHyperparameters
from pipeline.catalog.form_controls import CONTROLS
from pipeline.catalog.gpu_prices import GPU_TYPES, PRICING_VERSION, STORAGE_COST
from pipeline.catalog.models import Catalog, CatalogGpuType, CatalogLimits, Range
from pipeline.catalog.presets import PRESETS
from pipeline.jobs.states import JobStatus
from pipeline.pricing.cost_model import LIMITS


def _ranges(model: type[BaseModel], prefix: str) -> dict[str, Range]:
    """The numeric bounds the model validates, read from its own JSON Schema."""
    ranges = {}
    for name, schema in model.model_json_schema()["properties"].items():
        options: list[dict[str, Any]] = schema.get("anyOf", [schema])
        number = next((o for o in options if o.get("type") in ("integer", "number")), None)
        if number is None:
            continue
        ranges[f"{prefix}.{name}"] = Range(
            integer=number["type"] == "integer",
            minimum=number.get("minimum"),
            maximum=number.get("maximum"),
            exclusive_minimum=number.get("exclusiveMinimum"),
            exclusive_maximum=number.get("exclusiveMaximum"),
        )
    return ranges


def build_catalog() -> Catalog:
    return Catalog(
        pricing_version=PRICING_VERSION,
        storage_cost=STORAGE_COST,
        gpu_types=[
            CatalogGpuType(
                id=gpu.id,
                label=gpu.label,
                price_per_gpu_hour=gpu.price_per_gpu_hour,
                throughput_tokens_per_sec=gpu.throughput_tokens_per_sec,
                description=gpu.description,
            )
            for gpu in GPU_TYPES.values()
        ],
        presets=list(PRESETS),
        ranges=_ranges(GpuConfig, "gpu_config") | _ranges(JobHyperparameters, "hyperparameters"),
        controls=list(CONTROLS),
        job_statuses=list(JobStatus),
        limits=CatalogLimits(
            total_steps=LIMITS.total_steps, estimated_cost=LIMITS.estimated_cost, gpu_days=LIMITS.gpu_days
        ),
    )


CATALOG = build_catalog()  # static data: built once per execution environment

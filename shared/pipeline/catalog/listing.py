"""What the page needs to configure a job, from the data the cost model and the validators use:
GPU types and prices, presets, validation ranges, the page's sliders, job statuses, pricing version.
The page hard-codes none of it."""

from typing import Any

from pydantic import BaseModel

from pipeline.catalog import memory_fit
from pipeline.catalog.base_models import BASE_MODELS, DEFAULT_BASE_MODEL, BaseModelSpec
from pipeline.catalog.configuration import MAX_GPU_COUNT, GpuConfig, JobHyperparameters
from pipeline.catalog.form_controls import CONTROLS
from pipeline.catalog.gpu_prices import GPU_TYPES, PRICING_VERSION, STORAGE_COST
from pipeline.catalog.models import (
    Catalog,
    CatalogBaseModel,
    CatalogGpuSetup,
    CatalogGpuType,
    CatalogLimits,
    CatalogMemoryRule,
    CatalogModelMemory,
    Range,
)
from pipeline.catalog.presets import DEFAULT_PRESET, PRESETS
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


def _base_model(model: BaseModelSpec, batch_size: int, rank: int) -> CatalogBaseModel:
    terms = memory_fit.memory_terms(model)
    setups = []
    for gpu in GPU_TYPES.values():
        fewest = memory_fit.fewest_gpus(
            terms, gpu_memory_gib=gpu.memory_gib, max_count=MAX_GPU_COUNT, batch_size=batch_size, rank=rank
        )
        if fewest is not None:
            setups.append(CatalogGpuSetup(type=gpu.id, min_count=fewest))
    return CatalogBaseModel(
        id=model.id,
        name=model.name,
        source=model.source,
        parameters=model.parameters,
        context_length=model.context_length,
        license=model.license,
        tokenizer=model.tokenizer,
        throughput_factor=float(model.throughput_factor),
        memory=CatalogModelMemory(**terms._asdict()),
        gpu_setups=setups,
    )


def build_catalog() -> Catalog:
    default = next(preset for preset in PRESETS if preset.id == DEFAULT_PRESET)
    return Catalog(
        pricing_version=PRICING_VERSION,
        storage_cost=STORAGE_COST,
        base_models=[_base_model(model, default.batch_size, default.rank) for model in BASE_MODELS.values()],
        default_base_model=DEFAULT_BASE_MODEL,
        memory_rule=CatalogMemoryRule(
            sequence_length=memory_fit.SEQUENCE_LENGTH,
            overhead_bytes=memory_fit.OVERHEAD_BYTES,
            default_batch_size=default.batch_size,
            default_rank=default.rank,
        ),
        gpu_types=[
            CatalogGpuType(
                id=gpu.id,
                label=gpu.label,
                price_per_gpu_hour=gpu.price_per_gpu_hour,
                throughput_tokens_per_sec=gpu.throughput_tokens_per_sec,
                description=gpu.description,
                memory_bytes=gpu.memory_gib * memory_fit.GIB,
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

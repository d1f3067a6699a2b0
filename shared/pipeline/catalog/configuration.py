"""A training configuration (GPU, hyperparameters), as the estimate and create requests carry it."""

from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, Field, Strict, WithJsonSchema

from pipeline.catalog.gpu_prices import GPU_TYPES
from pipeline.models import IntegralNumber, Number, PresetId, RequestModel


def _catalog_gpu_type(value: str) -> str:
    if value not in GPU_TYPES:
        raise ValueError(f"must be one of: {', '.join(GPU_TYPES)}")
    return value


GpuTypeId = Annotated[
    str,
    Strict(),
    AfterValidator(_catalog_gpu_type),
    WithJsonSchema({"type": "string", "enum": list(GPU_TYPES)}),
]


class GpuConfig(RequestModel):
    type: GpuTypeId
    count: IntegralNumber = Field(ge=1, le=8)


class EstimateHyperparameters(RequestModel):
    batch_size: IntegralNumber = Field(ge=1, le=64)
    epochs: IntegralNumber = Field(ge=1, le=20)
    learning_rate: Number = Field(ge=0.00001, le=0.001)
    rank: IntegralNumber = Field(ge=4, le=128)


class JobHyperparameters(EstimateHyperparameters):
    alpha: Number | None = Field(default=None, gt=0)
    dropout: Number | None = Field(default=None, ge=0, lt=1)


# A job's budget: it is stopped when its cost reaches it, and never charged more. At least its estimate.
MaxCost = Annotated[
    Number | None,
    Field(
        default=None,
        gt=0,
        le=100_000,
        description="The most the job may cost (dollars and cents, at least its estimate): it is stopped"
        " when its cost reaches it, and never charged more",
        json_schema_extra={"multipleOf": 0.01},
    ),
]


class EstimateRequest(RequestModel):
    dataset_id: UUID
    gpu_config: GpuConfig
    hyperparameters: EstimateHyperparameters
    max_cost: MaxCost = None


class CreateJobRequest(RequestModel):
    dataset_id: UUID
    preset_id: PresetId
    gpu_config: GpuConfig
    hyperparameters: JobHyperparameters
    estimated_cost: Number = Field(ge=0)
    max_cost: MaxCost = None

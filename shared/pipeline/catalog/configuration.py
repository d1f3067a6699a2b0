"""A training configuration (GPU, hyperparameters), as the estimate and create requests carry it."""

from typing import Annotated, Final
from uuid import UUID

from pydantic import AfterValidator, Field, Strict, WithJsonSchema

from pipeline.catalog.base_models import BASE_MODELS, DEFAULT_BASE_MODEL
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


def _catalog_base_model(value: str) -> str:
    if value not in BASE_MODELS:
        raise ValueError(f"must be one of: {', '.join(BASE_MODELS)}")
    return value


BaseModelId = Annotated[
    str,
    Strict(),
    AfterValidator(_catalog_base_model),
    WithJsonSchema({"type": "string", "enum": list(BASE_MODELS)}),
]
# Optional in a request: none named is the catalog's default, whose figures are the reference's.
RequestedBaseModel = Annotated[
    BaseModelId,
    Field(
        default=DEFAULT_BASE_MODEL,
        description="The model the adapter is trained on (GET /catalog lists them); the catalog's default"
        f" ({DEFAULT_BASE_MODEL}) when absent",
    ),
]


MAX_GPU_COUNT: Final = 8


class GpuConfig(RequestModel):
    type: GpuTypeId
    count: IntegralNumber = Field(ge=1, le=MAX_GPU_COUNT)


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
    base_model: RequestedBaseModel = DEFAULT_BASE_MODEL
    gpu_config: GpuConfig
    hyperparameters: EstimateHyperparameters
    max_cost: MaxCost = None


class CreateJobRequest(RequestModel):
    dataset_id: UUID
    base_model: RequestedBaseModel = DEFAULT_BASE_MODEL
    preset_id: PresetId
    gpu_config: GpuConfig
    hyperparameters: JobHyperparameters
    estimated_cost: Number = Field(ge=0)
    max_cost: MaxCost = None

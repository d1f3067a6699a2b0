"""Request, response and queue-message models (pydantic v2).

Numbers are strict: JSON strings and booleans are rejected where a number is expected. Integer fields
accept integral numbers (4 or 4.0) and reject 4.5. Unknown keys are ignored (the page sends preset
names and descriptions inside `hyperparameters`) and are not stored.
"""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Final, Literal, get_args
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    Strict,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from pipeline.gpu_catalog import GPU_TYPES

JobStatus = Literal["queued", "initializing", "running", "completed", "failed", "cancelled"]
JOB_STATUSES: Final[tuple[str, ...]] = get_args(JobStatus)
PresetId = Literal["fast", "balanced", "quality", "custom"]


def _integral_number(value: Any) -> Any:
    # JSON has one number type: 4.0 is the integer 4; 4.5, "4" and true are not integers.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("int_type", "Input should be a JSON number (an integer)")
    if isinstance(value, float):
        if not value.is_integer():
            raise PydanticCustomError(
                "int_from_float", "Input should be a whole number, got {value}", {"value": value}
            )
        return int(value)
    return value


def _catalog_gpu_type(value: str) -> str:
    if value not in GPU_TYPES:
        raise ValueError(f"must be one of: {', '.join(GPU_TYPES)}")
    return value


def _money_json(value: Decimal) -> int | float:
    # JSON numbers on the wire, written as JavaScript writes them (7, 25.5, 1234.56). A numeric(12,2)
    # value has at most 12 significant digits, so the shortest repr of its double is exactly its text.
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def _utc_iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


IntegralNumber = Annotated[int, Strict(), BeforeValidator(_integral_number)]
Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]
GpuTypeId = Annotated[
    str,
    Strict(),
    AfterValidator(_catalog_gpu_type),
    WithJsonSchema({"type": "string", "enum": list(GPU_TYPES)}),
]
Money = Annotated[
    Decimal,
    PlainSerializer(_money_json, return_type=int | float, when_used="json"),
    WithJsonSchema({"type": "number"}, mode="serialization"),
]
UtcDatetime = Annotated[
    datetime,
    PlainSerializer(_utc_iso, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]


class _Model(BaseModel):
    # Build validators and serializers on first use: each function uses a few of these models, and
    # building all of them at import would add to every cold start.
    model_config = ConfigDict(defer_build=True)


class _Request(_Model):
    model_config = ConfigDict(extra="ignore", frozen=True)


# ---- requests -------------------------------------------------------------------------------------


class GpuConfig(_Request):
    type: GpuTypeId
    count: IntegralNumber = Field(ge=1, le=8)


class EstimateHyperparameters(_Request):
    batch_size: IntegralNumber = Field(ge=1, le=64)
    epochs: IntegralNumber = Field(ge=1, le=20)
    learning_rate: Number = Field(ge=0.00001, le=0.001)
    rank: IntegralNumber = Field(ge=4, le=128)


class JobHyperparameters(EstimateHyperparameters):
    alpha: Number | None = Field(default=None, gt=0)
    dropout: Number | None = Field(default=None, ge=0, lt=1)


class EstimateRequest(_Request):
    dataset_id: UUID
    gpu_config: GpuConfig
    hyperparameters: EstimateHyperparameters


class CreateJobRequest(_Request):
    dataset_id: UUID
    preset_id: PresetId
    gpu_config: GpuConfig
    hyperparameters: JobHyperparameters
    estimated_cost: Number = Field(ge=0)


MAX_PAGE: Final = 1_000_000  # keeps the SQL offset (page - 1) * limit far inside bigint


class ListJobsQuery(_Request):
    page: int | None = Field(default=None, ge=1, le=MAX_PAGE, description="Default 1; not with cursor")
    limit: int = Field(default=10, ge=1, le=100)
    status: JobStatus | None = None
    cursor: str | None = Field(
        default=None, min_length=1, max_length=512, description="next_cursor of a page"
    )


# ---- responses ------------------------------------------------------------------------------------


class CostBreakdown(_Model):
    compute: Money
    storage: Money


class TrainingDetails(_Model):
    total_steps: int
    steps_per_epoch: int
    estimated_throughput_tokens_per_sec: int
    dataset_name: str


class Estimate(_Model):
    estimated_cost: Money
    cost_breakdown: CostBreakdown
    estimated_duration_hours: Money
    hourly_rate: Money
    training_details: TrainingDetails
    pricing_version: str


class TrainingJob(_Model):
    """A row of lora_training_jobs, as the API returns it."""

    id: UUID
    user_id: UUID
    dataset_id: UUID
    preset_id: str
    status: JobStatus
    current_stage: str | None
    progress: Money
    current_epoch: int
    total_epochs: int
    current_step: int
    total_steps: int
    gpu_config: dict[str, Any]
    hyperparameters: dict[str, Any]
    estimated_total_cost: Money
    current_cost: Money
    current_metrics: dict[str, Any]
    pricing_version: str
    error_message: str | None
    queued_at: UtcDatetime | None
    started_at: UtcDatetime | None
    completed_at: UtcDatetime | None
    created_at: UtcDatetime
    updated_at: UtcDatetime


class JobDataset(_Model):
    name: str
    format: str | None
    total_training_pairs: int | None


class TrainingJobWithDataset(TrainingJob):
    dataset: JobDataset


class Pagination(_Model):
    page: int
    limit: int
    total: int
    totalPages: int


class JobPage(_Model):
    jobs: list[TrainingJobWithDataset]
    pagination: Pagination
    next_cursor: str | None = Field(
        description="Opaque; ?cursor= it for the next page. null on the last page"
    )


class CatalogGpuType(_Model):
    id: str
    label: str
    price_per_gpu_hour: Money
    throughput_tokens_per_sec: int
    description: str


class CatalogPreset(_Model):
    id: PresetId
    name: str
    description: str
    details: str
    learning_rate: float
    batch_size: int
    epochs: int
    rank: int
    alpha: float
    dropout: float


class Range(_Model):
    integer: bool
    minimum: int | float | None = None
    maximum: int | float | None = None
    exclusive_minimum: int | float | None = None
    exclusive_maximum: int | float | None = None


class CatalogControl(_Model):
    """A slider of the configuration page."""

    field: str = Field(description="Dotted field path, as validation errors are keyed")
    label: str
    minimum: int | float
    maximum: int | float
    step: int | float
    decimals: int = Field(description="Digits after the point to show and send")
    hint: str


class Catalog(_Model):
    pricing_version: str
    storage_cost: Money
    gpu_types: list[CatalogGpuType]
    presets: list[CatalogPreset]
    ranges: dict[str, Range] = Field(description="Keyed by dotted field path, as validation errors are")
    controls: list[CatalogControl] = Field(description="The page's sliders, inside `ranges`")
    job_statuses: list[JobStatus] = Field(description="Every status a job can have, in lifecycle order")


class ErrorResponse(_Model):
    """Every error the functions answer: {"error": ..., "details": ...}."""

    error: str
    details: Any = None
    data: Estimate | None = Field(default=None, description="409 Estimate out of date: the fresh estimate")
    request_id: str | None = Field(default=None, description="500: quote it to support")


class GatewayErrorResponse(_Model):
    """What API Gateway itself answers (bad or missing token: 401; no such route: 404)."""

    message: str


# ---- queue message (contract for consumers) -------------------------------------------------------

JOB_QUEUED_TYPE: Final = "training_job.queued"
JOB_QUEUED_VERSION: Final = 1


class TrainingJobQueuedMessage(_Model):
    """Body of the message put on the jobs queue for every created job. Consumers dedupe by job_id.

    The JSON Schema committed in schemas/ is generated from this model (`make schemas`).
    """

    model_config = ConfigDict(frozen=True, title="TrainingJobQueued")

    type: Literal["training_job.queued"] = JOB_QUEUED_TYPE
    version: Literal[1] = JOB_QUEUED_VERSION
    job_id: UUID
    user_id: UUID
    dataset_id: UUID
    preset_id: PresetId
    gpu_config: GpuConfig
    hyperparameters: JobHyperparameters
    total_steps: int
    estimated_total_cost: Money
    pricing_version: str
    queued_at: UtcDatetime

"""The catalog the configuration page is built from (GET /catalog)."""

from pydantic import Field

from pipeline.jobs.states import JobStatus
from pipeline.models import Model, Money, PresetId


class CatalogGpuType(Model):
    id: str
    label: str
    price_per_gpu_hour: Money
    throughput_tokens_per_sec: int
    description: str


class CatalogPreset(Model):
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


class Range(Model):
    integer: bool
    minimum: int | float | None = None
    maximum: int | float | None = None
    exclusive_minimum: int | float | None = None
    exclusive_maximum: int | float | None = None


class CatalogControl(Model):
    """A slider of the configuration page."""

    field: str = Field(description="Dotted field path, as validation errors are keyed")
    label: str
    minimum: int | float
    maximum: int | float
    step: int | float
    decimals: int = Field(description="Digits after the point to show and send")
    hint: str


class CatalogLimits(Model):
    """The largest run the API accepts; beyond any of these, estimate and create answer 422."""

    total_steps: int
    estimated_cost: Money
    gpu_days: int = Field(description="GPUs x estimated wall-clock days")


class Catalog(Model):
    pricing_version: str
    storage_cost: Money
    gpu_types: list[CatalogGpuType]
    presets: list[CatalogPreset]
    ranges: dict[str, Range] = Field(description="Keyed by dotted field path, as validation errors are")
    controls: list[CatalogControl] = Field(description="The page's sliders, inside `ranges`")
    job_statuses: list[JobStatus] = Field(description="Every status a job can have, in lifecycle order")
    limits: CatalogLimits

"""The catalog the configuration page is built from (GET /catalog)."""

from pydantic import Field

from pipeline.jobs.states import JobStatus
from pipeline.models import Model, Money, PresetId


class CatalogGpuType(Model):
    id: str
    label: str
    price_per_gpu_hour: Money
    throughput_tokens_per_sec: int = Field(description="Per GPU, for the default base model (the reference)")
    description: str
    memory_bytes: int = Field(description="Each GPU's memory, which a base model must fit (memory_rule)")


class CatalogGpuSetup(Model):
    type: str
    min_count: int = Field(description="The fewest GPUs of this type that fit the model (more always fit)")


class CatalogModelMemory(Model):
    """A base model's terms in the memory rule, in bytes."""

    weight_bytes: int
    lora_bytes_per_rank: int
    activation_bytes_per_sequence: int


class CatalogBaseModel(Model):
    id: str
    name: str
    source: str = Field(description="The weights a worker loads: a Hugging Face repository id")
    parameters: int
    context_length: int = Field(description="The longest example it takes, in tokens")
    license: str
    tokenizer: str = Field(description="The tokenizer a dataset's tokens are counted with for it")
    throughput_factor: float = Field(description="Its tokens per second against the GPU types' figures")
    memory: CatalogModelMemory
    gpu_setups: list[CatalogGpuSetup] = Field(
        description="The GPU types that can train it at the default batch size and rank, with the fewest"
        " GPUs that fit; a type absent here cannot, at any count"
    )


class CatalogMemoryRule(Model):
    """needed per GPU = ceil((weight_bytes + rank x lora_bytes_per_rank) / count)
    + ceil(batch_size / count) x activation_bytes_per_sequence + overhead_bytes; fits when needed <=
    the GPU type's memory_bytes."""

    sequence_length: int = Field(description="The training sequence activations are budgeted for")
    overhead_bytes: int
    default_batch_size: int = Field(description="The batch size gpu_setups are listed at")
    default_rank: int = Field(description="The LoRA rank gpu_setups are listed at")


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
    base_models: list[CatalogBaseModel]
    default_base_model: str = Field(description="The model of an estimate or job that names none")
    memory_rule: CatalogMemoryRule
    gpu_types: list[CatalogGpuType]
    presets: list[CatalogPreset]
    ranges: dict[str, Range] = Field(description="Keyed by dotted field path, as validation errors are")
    controls: list[CatalogControl] = Field(description="The page's sliders, inside `ranges`")
    job_statuses: list[JobStatus] = Field(description="Every status a job can have, in lifecycle order")
    limits: CatalogLimits

"""What the GPU workers report about a job: the contract's messages from the workers to us.

Each report names its job and that job's user, and carries a per-job `sequence` (1, 2, 3 ... in the
order the worker sent them) and the job's cumulative figures at that moment (step, epoch, GPU-seconds
used), never increments: a report applies the state it describes, so a duplicate or an older report
(sequence at or below the last applied) changes nothing, and after a gap (a lost report) the next one
still leaves the job right. The JSON Schemas in schemas/ are generated from these models
(`make schemas`); a worker team needs only those and docs/worker-contract.md.
"""

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, Final, Literal
from uuid import UUID

from pydantic import BeforeValidator, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from pipeline.models import Model, StorableText, UtcDatetime

REPORT_VERSION: Final = 1

# The largest value a float32 or bfloat16 training run can compute: a loss beyond it is not a loss
# (and the chart's sums over a bucket stay far inside a double).
MAX_METRIC: Final = 3.4e38
Metric = Annotated[float, Field(allow_inf_nan=False, ge=0, le=MAX_METRIC)]
_MILLISECOND: Final = Decimal("0.001")
# What the job's gpu_seconds column (numeric(14, 3)) holds: 3,000 GPU-years. The contract's tighter
# bound is the job's own: what it could have used since it was handed to the workers.
MAX_GPU_SECONDS: Final = Decimal("99999999999.999")


def _gpu_seconds(value: Any) -> Decimal:
    # A JSON number, kept to the millisecond: a worker's float sum (0.1 + 0.2) is not an error.
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise PydanticCustomError("gpu_seconds_type", "Input should be a JSON number of seconds")
    if isinstance(value, float) and not math.isfinite(value):
        raise PydanticCustomError("gpu_seconds_finite", "Input should be a finite number of seconds")
    exact = value if isinstance(value, Decimal) else Decimal(repr(value))
    if not exact.is_finite() or abs(exact) > MAX_GPU_SECONDS:
        # Checked before rounding: quantizing 1e25 to the millisecond overflows Decimal's precision.
        raise PydanticCustomError(
            "gpu_seconds_range",
            "Input should be at most {maximum} seconds",
            {"maximum": str(MAX_GPU_SECONDS)},
        )
    return exact.quantize(_MILLISECOND, rounding=ROUND_HALF_UP)


GpuSeconds = Annotated[
    Decimal,
    BeforeValidator(_gpu_seconds),
    Field(ge=0, le=MAX_GPU_SECONDS),
    WithJsonSchema({"type": "number", "minimum": 0, "maximum": float(MAX_GPU_SECONDS)}),
]
Count = Annotated[int, Field(ge=0, le=100_000_000)]
ObjectKey = Annotated[str, Field(min_length=1, max_length=1024, pattern=r"^[A-Za-z0-9!_.*'()/-]+$")]


class TrainingMetrics(Model):
    """Loss and learning rate at the reported step; absent figures are simply not measured yet."""

    model_config = ConfigDict(extra="forbid")

    train_loss: Metric | None = None
    validation_loss: Metric | None = None
    learning_rate: Metric | None = None


class _Report(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = Field(description="The contract's version: a report without it is refused")
    job_id: UUID
    user_id: UUID
    sequence: int = Field(ge=1, le=2_000_000_000, description="Per job: 1 for the first report, then +1")
    sent_at: UtcDatetime


class _Usage(_Report):
    step: Count = Field(description="Optimizer steps done so far (cumulative)")
    epoch: Count = Field(description="Epochs completed so far (cumulative)")
    gpu_seconds: GpuSeconds = Field(description="GPU time used so far, summed over the job's GPUs")


class JobStarted(_Report):
    """The worker has the job and its GPUs: initializing -> running."""

    model_config = ConfigDict(title="TrainingJobStarted")
    type: Literal["training_job.started"]
    worker_id: StorableText = Field(min_length=1, max_length=200)


class JobProgress(_Usage):
    model_config = ConfigDict(title="TrainingJobProgress")
    type: Literal["training_job.progress"]
    metrics: TrainingMetrics = TrainingMetrics()


class CheckpointSaved(_Usage):
    model_config = ConfigDict(title="TrainingJobCheckpointSaved")
    type: Literal["training_job.checkpoint_saved"]
    object_key: ObjectKey = Field(description="Where the checkpoint lies in the artifacts bucket")
    metrics: TrainingMetrics = TrainingMetrics()


class JobCompleted(_Usage):
    model_config = ConfigDict(title="TrainingJobCompleted")
    type: Literal["training_job.completed"]
    artifact_key: ObjectKey = Field(description="Where the final adapter lies in the artifacts bucket")
    metrics: TrainingMetrics = TrainingMetrics()


class JobError(Model):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$", description="e.g. out_of_memory, dataset_unreadable")
    message: StorableText = Field(min_length=1, max_length=1000, description="Shown to the user as is")


class JobFailed(_Usage):
    model_config = ConfigDict(title="TrainingJobFailed")
    type: Literal["training_job.failed"]
    error: JobError


class JobCancelled(_Usage):
    """The worker stopped after a cancel request, within one step of receiving it."""

    model_config = ConfigDict(title="TrainingJobCancelled")
    type: Literal["training_job.cancelled"]


WorkerReport = Annotated[
    JobStarted | JobProgress | CheckpointSaved | JobCompleted | JobFailed | JobCancelled,
    Field(discriminator="type"),
]
REPORT_TYPES: Final = (JobStarted, JobProgress, CheckpointSaved, JobCompleted, JobFailed, JobCancelled)

"""The message put on the jobs queue for every created job: the contract with its consumers."""

from typing import Final, Literal
from uuid import UUID

from pydantic import ConfigDict

from pipeline.catalog.configuration import GpuConfig, JobHyperparameters
from pipeline.models import Model, Money, PresetId, UtcDatetime

JOB_QUEUED_TYPE: Final = "training_job.queued"
JOB_QUEUED_VERSION: Final = 1


class TrainingJobQueuedMessage(Model):
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
    # Added in version 1 (a field consumers may ignore); absent only from messages queued before it.
    base_model: str | None = None
    gpu_config: GpuConfig
    hyperparameters: JobHyperparameters
    total_steps: int
    estimated_total_cost: Money
    pricing_version: str
    queued_at: UtcDatetime

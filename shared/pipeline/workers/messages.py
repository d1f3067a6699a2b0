"""What we send the GPU workers: the contract's messages from us to the workers.

- `training_job.assigned` on the worker tasks queue (SQS FIFO, MessageGroupId = job_id,
  MessageDeduplicationId = type:job_id): a claimed job, with everything a worker needs to run it. One
  worker takes it; it deletes the message once it has sent its `started` report.
- `training_job.cancel_requested` on the worker control topic (SNS): every worker host subscribes a
  queue of its own and hears every control message; the one running the job stops it within a step
  and reports `training_job.cancelled`; the others ignore it. A cancel may arrive before the worker
  has started the job (it was cancelled while initializing): the worker then never starts it.

Both go through the outbox (destination worker_tasks / worker_control), so a committed claim or
cancel always reaches the workers, at least once: a worker dedupes by (type, job_id).
The JSON Schemas in schemas/ are generated from these models (`make schemas`).
"""

from typing import Final, Literal
from uuid import UUID

from pydantic import ConfigDict, Field

from pipeline.catalog.configuration import GpuConfig, JobHyperparameters
from pipeline.models import Model, PresetId, UtcDatetime

JOB_ASSIGNED_TYPE: Final = "training_job.assigned"
CANCEL_REQUESTED_TYPE: Final = "training_job.cancel_requested"
WORKER_MESSAGE_VERSION: Final = 1
# Version 2 names the base model to train. A version 1 worker trained a model of its own choosing, so the
# new field changes what the job means: a v1 worker leaves a v2 message alone (docs/worker-contract.md).
JOB_ASSIGNED_VERSION: Final = 2


class AssignedBaseModel(Model):
    """The model to train the adapter on: load `source`'s weights, count tokens with `tokenizer`."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(description="The catalog's id (GET /catalog): the job's base_model")
    name: str
    source: str = Field(description="The weights to load: a Hugging Face repository id")
    parameters: int = Field(ge=1)
    context_length: int = Field(ge=1, description="The longest example the model takes, in tokens")
    tokenizer: str = Field(description="The tokenizer the dataset's tokens were counted with")


class AssignedDatasetFile(Model):
    """The dataset's file exactly as validated: read it from here (the DatasetsReaderPolicy allows it)."""

    model_config = ConfigDict(frozen=True)

    bucket: str
    key: str = Field(description="users/<user_id>/datasets/<dataset_id>/source.jsonl")
    sha256: str = Field(description="Of the file validated: refuse to train on one that differs")
    size_bytes: int = Field(ge=1)
    held_out: int = Field(
        ge=0,
        description="Examples to hold out for the validation loss: the valid lines whose bytes (without"
        " the line ending; the first line without a BOM) have the smallest SHA-256, the earlier line first on"
        " a tie; train on the others",
    )


class AssignedDataset(Model):
    model_config = ConfigDict(frozen=True)

    id: UUID
    name: str
    format: str | None
    total_training_pairs: int | None = Field(description="Examples to train on (the hold-out excluded)")
    total_tokens: int | None = Field(description="Their tokens by the base model's own tokenizer")
    file: AssignedDatasetFile | None = Field(
        default=None,
        description="Where the validated file is; null only for a dataset not uploaded as a file",
    )


class AssignedOutput(Model):
    """Where the worker writes the job's files: every object key it reports must start with prefix."""

    model_config = ConfigDict(frozen=True)

    bucket: str
    prefix: str = Field(description="users/<user_id>/jobs/<job_id>/: checkpoints and the adapter below it")


class TrainingJobAssigned(Model):
    """A job for a worker to run: its configuration and the run the estimate expects."""

    model_config = ConfigDict(frozen=True, title="TrainingJobAssigned")

    type: Literal["training_job.assigned"] = JOB_ASSIGNED_TYPE
    version: Literal[2] = JOB_ASSIGNED_VERSION
    job_id: UUID
    user_id: UUID
    base_model: AssignedBaseModel
    dataset: AssignedDataset
    preset_id: PresetId
    gpu_config: GpuConfig
    hyperparameters: JobHyperparameters
    total_epochs: int = Field(ge=1)
    total_steps: int = Field(ge=1)
    steps_per_epoch: int = Field(ge=1)
    estimated_duration_seconds: int = Field(
        ge=0, description="The estimate's wall-clock run, overheads included (the cost model's figure)"
    )
    output: AssignedOutput
    assigned_at: UtcDatetime


class TrainingJobCancelRequested(Model):
    """Stop this job at its next step and report training_job.cancelled with the GPU time used."""

    model_config = ConfigDict(frozen=True, title="TrainingJobCancelRequested")

    type: Literal["training_job.cancel_requested"] = CANCEL_REQUESTED_TYPE
    version: Literal[1] = WORKER_MESSAGE_VERSION
    job_id: UUID
    user_id: UUID
    requested_at: UtcDatetime

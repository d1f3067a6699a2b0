"""A training job as the API returns it, alone (create) or with its dataset (get, list)."""

from typing import Any
from uuid import UUID

from pipeline.models import JobStatus, Model, Money, UtcDatetime


class TrainingJob(Model):
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


class JobDataset(Model):
    name: str
    format: str | None
    total_training_pairs: int | None


class TrainingJobWithDataset(TrainingJob):
    dataset: JobDataset

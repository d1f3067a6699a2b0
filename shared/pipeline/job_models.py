"""Training jobs as the API returns them, and the list query and page."""

from typing import Any, Final
from uuid import UUID

from pydantic import Field

from pipeline.models import JobStatus, Model, Money, RequestModel, UtcDatetime

MAX_PAGE: Final = 1_000_000  # keeps the SQL offset (page - 1) * limit far inside bigint


class ListJobsQuery(RequestModel):
    page: int | None = Field(default=None, ge=1, le=MAX_PAGE, description="Default 1; not with cursor")
    limit: int = Field(default=10, ge=1, le=100)
    status: JobStatus | None = None
    cursor: str | None = Field(
        default=None, min_length=1, max_length=512, description="next_cursor of a page"
    )


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


class Pagination(Model):
    page: int
    limit: int
    total: int
    totalPages: int


class JobPage(Model):
    jobs: list[TrainingJobWithDataset]
    pagination: Pagination
    next_cursor: str | None = Field(
        description="Opaque; ?cursor= it for the next page. null on the last page"
    )

"""A training job as the API returns it, alone (create) or with its dataset (get, list)."""

from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from pydantic import Field, computed_field

from pipeline.jobs.states import JobStatus
from pipeline.models import DecimalNumber, Model, Money, UtcDatetime

StopReason = Literal["cancelled_by_user", "budget_reached", "monthly_limit_reached"]


class JobFailure(Model):
    code: str = Field(description="What went wrong, for programs: out_of_memory, dataset_unreadable, ...")
    message: str = Field(description="What went wrong, for people (the worker's words)")


class TrainingJob(Model):
    """A row of lora_training_jobs, as the API returns it."""

    id: UUID
    user_id: UUID
    dataset_id: UUID | None = Field(description="Null once its dataset was deleted (the job keeps its name)")
    preset_id: str
    base_model: str = Field(description="The base model the adapter is trained on (GET /catalog)")
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
    error_code: str | None = Field(default=None, exclude=True)  # shown inside `error`
    gpu_seconds: DecimalNumber = Field(
        default=Decimal(0), description="GPU time used so far, in seconds, summed over its GPUs"
    )
    estimated_finish_at: UtcDatetime | None = Field(
        default=None, description="While running: when it should end, at the pace so far"
    )
    cancellation_requested_at: UtcDatetime | None = Field(
        default=None, description="When the job was asked to stop (by its user, or by a budget)"
    )
    max_cost: Money | None = Field(
        default=None,
        description="The job's budget: it is stopped when its cost reaches it, never charged more",
    )
    stop_reason: StopReason | None = Field(
        default=None,
        description="Why the job was stopped before its end: its user cancelled it, its max_cost was"
        " reached, or the account's monthly spending limit was",
    )
    queued_at: UtcDatetime | None
    started_at: UtcDatetime | None
    completed_at: UtcDatetime | None
    created_at: UtcDatetime
    updated_at: UtcDatetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def error(self) -> JobFailure | None:
        """Why it failed (a failed job only)."""
        if self.error_code is None:
            return None
        return JobFailure(code=self.error_code, message=self.error_message or "")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def cost_over_estimate(self) -> bool:
        """True once the run has cost more than its estimate: it is charged what it used."""
        return self.current_cost > self.estimated_total_cost


class JobDataset(Model):
    name: str
    format: str | None
    total_training_pairs: int | None


class TrainingJobWithDataset(TrainingJob):
    dataset: JobDataset


class JobCancellation(Model):
    """What POST /jobs/{job_id}/cancel did, and what it costs the user."""

    job: TrainingJob
    cancellation: Literal["cancelled", "requested"] = Field(
        description="cancelled: ended now (it had not started running). requested: the running job stops"
        " at its next step, then becomes cancelled."
    )
    charged: Money = Field(
        description="What the job is charged: final when cancelled; so far when requested (the GPU time"
        " until the worker stops is added)"
    )
    not_charged: Money = Field(description="What of the confirmed estimate is not charged (so far)")

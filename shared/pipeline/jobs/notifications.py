"""What the user is told at each moment of a job's life: one lora_notifications row per moment, written
in the transaction that makes it true."""

from enum import StrEnum
from typing import Final, NamedTuple
from uuid import UUID

from pipeline.db.database import Connection
from pipeline.jobs import notifications_repository


class JobMoment(StrEnum):
    QUEUED = "job_queued"
    INITIALIZING = "job_initializing"
    COMPLETED = "job_completed"
    FAILED = "job_failed"
    CANCELLED = "job_cancelled"


class _Notice(NamedTuple):
    title: str
    message: str  # formatted with the dataset's name
    priority: str


_NOTICES: Final = {
    JobMoment.QUEUED: _Notice(
        "Training Job Queued",
        'Your training job for "{dataset}" has been queued and will start shortly',
        "low",
    ),
    JobMoment.INITIALIZING: _Notice(
        "Training Job Starting", 'Your training job for "{dataset}" is initializing', "low"
    ),
    JobMoment.COMPLETED: _Notice(
        "Training Job Completed", 'Your training job for "{dataset}" has completed', "medium"
    ),
    JobMoment.FAILED: _Notice("Training Job Failed", 'Your training job for "{dataset}" has failed', "high"),
    JobMoment.CANCELLED: _Notice(
        "Training Job Cancelled", 'Your training job for "{dataset}" has been cancelled', "medium"
    ),
}


# Said after a cancelled job's message when one of its user's budgets stopped it.
_STOPPED_BY: Final = {
    "budget_reached": "its cost reached the budget (max_cost) you set for it",
    "monthly_limit_reached": "your account's monthly spending limit was reached",
}


def notify(
    conn: Connection,
    moment: JobMoment,
    *,
    user_id: UUID,
    job_id: UUID,
    dataset_name: str,
    stop_reason: str | None = None,
) -> None:
    notice = _NOTICES[moment]
    message = notice.message.format(dataset=dataset_name)
    metadata = {"job_id": str(job_id), "dataset_name": dataset_name}
    if moment is JobMoment.CANCELLED and stop_reason in _STOPPED_BY:
        message += f": {_STOPPED_BY[stop_reason]}"
        metadata["stop_reason"] = stop_reason
    notifications_repository.insert(
        conn,
        user_id=user_id,
        type=moment.value,
        title=notice.title,
        message=message,
        priority=notice.priority,
        action_url=f"/training/jobs/{job_id}",
        metadata=metadata,
    )

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


def notify(conn: Connection, moment: JobMoment, *, user_id: UUID, job_id: UUID, dataset_name: str) -> None:
    notice = _NOTICES[moment]
    notifications_repository.insert(
        conn,
        user_id=user_id,
        type=moment.value,
        title=notice.title,
        message=notice.message.format(dataset=dataset_name),
        priority=notice.priority,
        action_url=f"/training/jobs/{job_id}",
        metadata={"job_id": str(job_id), "dataset_name": dataset_name},
    )

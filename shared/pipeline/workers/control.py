"""Telling the GPU workers to stop a job (training_job.cancel_requested on the control topic): written
to the outbox in the caller's transaction, sent right after its commit; what that send misses, the
outbox relay sends. Used by a user's cancel and by the watchdog's stop of a silent job."""

from datetime import datetime
from uuid import UUID

from pipeline.db.database import Connection
from pipeline.outbox import after_commit
from pipeline.outbox.repository import Destination
from pipeline.workers.messages import (
    CANCEL_REQUESTED_TYPE,
    WORKER_MESSAGE_VERSION,
    TrainingJobCancelRequested,
)


def queue_stop(conn: Connection, job_id: UUID, user_id: UUID, requested_at: datetime) -> after_commit.Written:
    """The stop message, in the outbox of the transaction on `conn`: `after_commit.send` it once that
    transaction committed."""
    body = TrainingJobCancelRequested(
        job_id=job_id, user_id=user_id, requested_at=requested_at
    ).model_dump_json()
    return after_commit.write(
        conn,
        user_id=user_id,
        job_id=job_id,
        destination=Destination.WORKER_CONTROL,
        message_type=CANCEL_REQUESTED_TYPE,
        version=WORKER_MESSAGE_VERSION,
        body=body,
    )

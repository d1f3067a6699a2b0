"""Telling the GPU workers to stop a job (training_job.cancel_requested on the control topic): written
to the outbox in the caller's transaction, sent right after its commit; what that send misses, the
outbox relay sends. Used by a user's cancel and by the watchdog's stop of a silent job."""

from datetime import datetime
from uuid import UUID

from pipeline.db.database import Connection, Database
from pipeline.outbox import after_commit as outbox_delivery
from pipeline.outbox import repository as outbox_repository
from pipeline.outbox.after_commit import Publisher
from pipeline.outbox.repository import Destination
from pipeline.workers.messages import (
    CANCEL_REQUESTED_TYPE,
    WORKER_MESSAGE_VERSION,
    TrainingJobCancelRequested,
)


def queue_stop(conn: Connection, job_id: UUID, user_id: UUID, requested_at: datetime) -> str:
    """The stop message, in the outbox of the transaction on `conn`; returns its body for the send."""
    body = TrainingJobCancelRequested(
        job_id=job_id, user_id=user_id, requested_at=requested_at
    ).model_dump_json()
    outbox_repository.insert(
        conn,
        job_id=job_id,
        message_type=CANCEL_REQUESTED_TYPE,
        message_version=WORKER_MESSAGE_VERSION,
        body=body,
        destination=Destination.WORKER_CONTROL,
    )
    return body


def send_stop(database: Database, workers: Publisher, user_id: UUID, job_id: UUID, body: str) -> None:
    """After the commit: publish the queued stop and mark its row sent."""

    def mark_sent() -> None:
        # As the job's tenant: the API's role sees only its own jobs' outbox rows.
        with database.tenant_transaction(user_id) as conn:
            outbox_repository.mark_sent_for_job(conn, job_id, Destination.WORKER_CONTROL)

    outbox_delivery.send_committed(
        workers,
        job_id=job_id,
        message_type=CANCEL_REQUESTED_TYPE,
        version=WORKER_MESSAGE_VERSION,
        body=body,
        mark_sent=mark_sent,
    )

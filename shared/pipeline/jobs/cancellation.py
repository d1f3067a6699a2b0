"""Cancelling a caller's job: POST /jobs/{job_id}/cancel.

- queued or initializing: nothing has run, so the job is cancelled at once and charged nothing;
- running: the worker is asked to stop (cancellation_requested_at); it stops within a step and
  reports, and the job becomes cancelled with the charge for the GPU time used (job_lifecycle). A
  completion that reaches us first wins (the events say so);
- cancelled: answered as it is (a repeated cancel changes nothing);
- completed or failed: JobAlreadyFinished. Another user's job, or no such job: JobNotFound.
One transaction, the job row locked, so a cancel and a worker's report apply one after the other.

A job that a worker may have (initializing: its assignment may be on its way; running) also gets a
control message to the workers (training_job.cancel_requested), written to the outbox in the same
transaction and sent right after commit; what that send misses, the outbox relay sends.
"""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Final
from uuid import UUID

from pipeline.db.database import Connection, Database
from pipeline.errors import JobAlreadyFinished, JobNotFound
from pipeline.history import event_log
from pipeline.jobs import notifications as job_notifications
from pipeline.jobs import repository as jobs_repository
from pipeline.jobs.models import JobCancellation, TrainingJob
from pipeline.jobs.notifications import JobMoment
from pipeline.jobs.states import JobStatus, cancels_at_once, transition
from pipeline.outbox import after_commit
from pipeline.outbox.after_commit import Publisher
from pipeline.runtime.observability import logger
from pipeline.workers import control as worker_control

_NOTHING: Final = Decimal("0.00")


def cancel_job(database: Database, user_id: UUID, raw_job_id: str, workers: Publisher) -> JobCancellation:
    try:
        job_id = UUID(raw_job_id)
    except ValueError:
        raise JobNotFound() from None
    with database.tenant_transaction(user_id) as conn:
        row = jobs_repository.lock_for_cancel(conn, job_id, user_id)
        if row is None:
            raise JobNotFound()
        status = JobStatus(row["status"])
        control: after_commit.Written | None = None
        if status in (JobStatus.COMPLETED, JobStatus.FAILED):
            raise JobAlreadyFinished(status)
        if cancels_at_once(status):
            jobs_repository.cancel_now(conn, job_id)
            _event(
                conn,
                job_id,
                user_id,
                "status_changed",
                {"from": status, "to": transition(status, JobStatus.CANCELLED)},
            )
            _event(
                conn, job_id, user_id, "cost", {"final": True, "cost": 0, "reason": "cancelled before it ran"}
            )
            job_notifications.notify(
                conn, JobMoment.CANCELLED, user_id=user_id, job_id=job_id, dataset_name=row["dataset_name"]
            )
            if status is JobStatus.INITIALIZING:
                control = worker_control.queue_stop(conn, job_id, user_id, datetime.now(UTC))
        elif status is JobStatus.RUNNING and row["cancellation_requested_at"] is None:
            jobs_repository.request_cancellation(conn, job_id)
            _event(conn, job_id, user_id, "cancellation_requested", {})
            control = worker_control.queue_stop(conn, job_id, user_id, datetime.now(UTC))
        # The row as this transaction leaves it, read with the COMMIT.
        job = jobs_repository.get_for_user(conn, job_id, user_id)
    stored = job.result()
    assert stored is not None  # locked above, so it is still there
    if control is not None:
        after_commit.send(database, workers, control)
    answer = TrainingJob.model_validate({key: value for key, value in stored.items() if key != "dataset"})
    logger.info("job cancellation", job_id=str(job_id), status_before=status, status=answer.status)
    return JobCancellation(
        job=answer,
        cancellation="cancelled" if answer.status == "cancelled" else "requested",
        charged=answer.current_cost,
        not_charged=max(answer.estimated_total_cost - answer.current_cost, _NOTHING),
    )


def _event(conn: Connection, job_id: UUID, user_id: UUID, type: str, data: dict[str, object]) -> None:
    event_log.record(conn, job_id=job_id, user_id=user_id, type=type, data=data)

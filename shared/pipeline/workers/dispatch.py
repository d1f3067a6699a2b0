"""The consumer side of the jobs queue: claim each queued job for processing, exactly once, and hand
it to the GPU workers.

The claim and the worker assignment (training_job.assigned) commit together, the assignment in the
outbox (destination worker_tasks), and are sent right after commit; what that send misses, the
outbox relay sends.

A message may arrive more than once (at-least-once delivery, relay re-sends): the claim is a
conditional update (queued -> initializing), so only the first delivery changes anything. Messages
that can never succeed (unknown type or version, invalid body, job gone) are acknowledged and
logged; anything transient (the database down) raises, so SQS delivers it again and, after
maxReceiveCount, moves it to the dead-letter queue.
"""

from datetime import UTC, datetime
from enum import StrEnum

from pydantic import ValidationError

from pipeline.db.database import Database
from pipeline.history import event_log
from pipeline.jobs import notifications as job_notifications
from pipeline.jobs import repository as jobs_repository
from pipeline.jobs.notifications import JobMoment
from pipeline.jobs.queue_messages import (
    JOB_QUEUED_TYPE,
    JOB_QUEUED_VERSION,
    TrainingJobQueuedMessage,
)
from pipeline.jobs.states import JobStatus, transition
from pipeline.outbox import after_commit
from pipeline.outbox.after_commit import Publisher
from pipeline.outbox.repository import Destination
from pipeline.runtime.observability import logger
from pipeline.runtime.queue_consumer import envelope
from pipeline.workers.assignment import assignment_for
from pipeline.workers.messages import JOB_ASSIGNED_TYPE, JOB_ASSIGNED_VERSION


class Outcome(StrEnum):
    CLAIMED = "claimed"
    ALREADY_CLAIMED = "already_claimed"  # a duplicate delivery, or the job moved on (cancelled ...)
    JOB_NOT_FOUND = "job_not_found"
    UNPROCESSABLE = "unprocessable"  # unknown type/version or an invalid body: no retry can help


def parse_message(body: str) -> TrainingJobQueuedMessage | None:
    try:
        return TrainingJobQueuedMessage.model_validate_json(body)
    except ValidationError as exc:
        claimed = envelope(body)
        if claimed is not None and claimed.kind != (JOB_QUEUED_TYPE, str(JOB_QUEUED_VERSION)):
            logger.warning(
                "message of an unknown type or version acknowledged",
                message_kind=str(claimed.kind),
                job_id=claimed.job_id,
            )
        else:
            logger.warning(
                "invalid job message acknowledged",
                job_id=claimed.job_id if claimed else None,
                errors=exc.errors(include_url=False, include_input=False)[:5],
            )
        return None


def dispatch(
    database: Database, body: str, workers: Publisher, artifacts_bucket: str, datasets_bucket: str
) -> Outcome:
    message = parse_message(body)
    if message is None:
        return Outcome.UNPROCESSABLE
    # The message names its user: row level security then shows only that user's job, so a message
    # with a wrong user_id finds nothing.
    with database.tenant_transaction(message.user_id) as conn:
        claimed = jobs_repository.claim_queued(conn, message.job_id)
        if claimed is None:
            status = jobs_repository.status_of(conn, message.job_id)
            outcome = Outcome.JOB_NOT_FOUND if status is None else Outcome.ALREADY_CLAIMED
            logger.info(
                "job message acknowledged without change", job_id=str(message.job_id), outcome=outcome
            )
            return outcome
        # The feed's first move, in the claim's transaction like every other.
        event_log.record(
            conn,
            job_id=claimed.id,
            user_id=message.user_id,
            type="status_changed",
            data={"from": JobStatus.QUEUED, "to": transition(JobStatus.QUEUED, JobStatus.INITIALIZING)},
        )
        job_notifications.notify(
            conn,
            JobMoment.INITIALIZING,
            user_id=message.user_id,
            job_id=message.job_id,
            dataset_name=claimed.dataset_name,
        )
        assignment = assignment_for(
            claimed, datetime.now(UTC), artifacts_bucket, datasets_bucket
        ).model_dump_json()
        written = after_commit.write(
            conn,
            user_id=message.user_id,
            job_id=claimed.id,
            destination=Destination.WORKER_TASKS,
            message_type=JOB_ASSIGNED_TYPE,
            version=JOB_ASSIGNED_VERSION,
            body=assignment,
        )
    logger.info("job claimed", job_id=str(message.job_id))
    after_commit.send(database, workers, written)
    return Outcome.CLAIMED

"""The consumer side of the jobs queue: claim each queued job for processing, exactly once.

A message may arrive more than once (at-least-once delivery, relay re-sends): the claim is a
conditional update (queued -> initializing), so only the first delivery changes anything. Messages
that can never succeed (unknown type or version, invalid body, job gone) are acknowledged and
logged; anything transient (the database down) raises, so SQS delivers it again and, after
maxReceiveCount, moves it to the dead-letter queue.
"""

from enum import StrEnum

from pydantic import ValidationError

from pipeline import job_notifications, jobs_repository
from pipeline.database import Database
from pipeline.job_notifications import JobMoment
from pipeline.message_models import (
    JOB_QUEUED_TYPE,
    JOB_QUEUED_VERSION,
    TrainingJobQueuedMessage,
    envelope_kind,
)
from pipeline.observability import logger


class Outcome(StrEnum):
    CLAIMED = "claimed"
    ALREADY_CLAIMED = "already_claimed"  # a duplicate delivery, or the job moved on (cancelled ...)
    JOB_NOT_FOUND = "job_not_found"
    UNPROCESSABLE = "unprocessable"  # unknown type/version or an invalid body: no retry can help


def parse_message(body: str) -> TrainingJobQueuedMessage | None:
    try:
        return TrainingJobQueuedMessage.model_validate_json(body)
    except ValidationError as exc:
        kind = envelope_kind(body)
        if kind is not None and kind != (JOB_QUEUED_TYPE, JOB_QUEUED_VERSION):
            logger.warning("message of an unknown type or version acknowledged", message_kind=str(kind))
        else:
            logger.warning("invalid job message acknowledged", errors=exc.errors(include_url=False)[:5])
        return None


def dispatch(database: Database, body: str) -> Outcome:
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
        job_notifications.notify(
            conn,
            JobMoment.INITIALIZING,
            user_id=message.user_id,
            job_id=message.job_id,
            dataset_name=claimed.dataset_name,
        )
    logger.info("job claimed", job_id=str(message.job_id))
    return Outcome.CLAIMED

"""Creating a training job: one transaction for job + notification + outbox row, then the queue.

The outbox row commits with the job, so a job can never exist without its message: if the send
after commit fails (or the process dies first), the row stays pending and a relay publishes it later.
Consumers dedupe by job_id, because a message may then arrive twice.

With an Idempotency-Key, the same transaction first takes a lock on (caller, key) - held elsewhere
means the first request is still in flight (409) - then replays a stored success for the same request
(or refuses a different one, 422), and otherwise stores this success with the job. Failures are not
stored: a request refused as invalid or out of date can be corrected and sent again with its key.
"""

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, NamedTuple
from uuid import UUID, uuid4

import psycopg

from pipeline.budgets import rules as budget_rules
from pipeline.budgets import usage as budgets_usage
from pipeline.catalog.base_models import DEFAULT_BASE_MODEL
from pipeline.catalog.configuration import CreateJobRequest
from pipeline.catalog.gpu_prices import PRICING_VERSION
from pipeline.datasets import repository as datasets_repository
from pipeline.datasets.repository import Dataset
from pipeline.db.database import Connection, Database, Deferred
from pipeline.errors import (
    ConnectionLost,
    CreationOutcomeUnknown,
    DatabaseUnavailable,
    DatasetNotFound,
    DatasetNotReady,
    EstimateOutOfDate,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
)
from pipeline.jobs import idempotency_repository
from pipeline.jobs import notifications as job_notifications
from pipeline.jobs import repository as jobs_repository
from pipeline.jobs.models import TrainingJob
from pipeline.jobs.notifications import JobMoment
from pipeline.jobs.queue_messages import JOB_QUEUED_TYPE, JOB_QUEUED_VERSION, TrainingJobQueuedMessage
from pipeline.outbox import after_commit
from pipeline.outbox.after_commit import Publisher
from pipeline.outbox.repository import Destination
from pipeline.pricing.estimates import checked_max_cost, estimate_from_figures, figures_for_dataset
from pipeline.runtime.observability import logger, metrics


class CreatedJob(NamedTuple):
    job: TrainingJob
    replayed: bool  # True: the stored response to an earlier request with the same Idempotency-Key


def create_job(
    database: Database,
    user_id: UUID,
    request: CreateJobRequest,
    publisher: Publisher,
    idempotency_key: str | None = None,
) -> CreatedJob:
    """Three round trips in all: the reads, the writes with COMMIT, and marking the outbox row sent.

    The outcome is never ambiguous to the client. The job's id is chosen before anything is written; if
    the connection is lost before the COMMIT was sent, nothing was committed and the transaction runs
    again, once, on a new connection; if it is lost after, the job is looked up by that id: found, the
    answer is 201 as if nothing had happened; not found, 503 (nothing was created); the lookup failing
    too, 503 saying the outcome is unknown and to retry with the same Idempotency-Key.
    """
    # The default model named or not is one request: a key used before models existed still replays.
    unnamed_default = {"base_model"} if request.base_model == DEFAULT_BASE_MODEL else None
    request_hash = hashlib.sha256(request.model_dump_json(exclude=unnamed_default).encode()).hexdigest()
    job_id = uuid4()
    stored: CreatedJob | tuple[TrainingJob, after_commit.Written | None]
    for attempt in (1, 2):
        try:
            stored = _create_in_transaction(database, user_id, request, request_hash, idempotency_key, job_id)
            break
        except psycopg.errors.ForeignKeyViolation:
            # The dataset was deleted between reading it and inserting the job (the delete held its row).
            raise DatasetNotFound() from None
        except ConnectionLost as lost:
            if lost.commit_sent:
                stored = _after_an_interrupted_commit(database, user_id, job_id)
                break
            if attempt == 2:
                raise
            logger.info("database connection lost before the commit; creating the job again")
    if isinstance(stored, CreatedJob):
        return stored  # a replay: nothing new to send
    job, message = stored
    if message is None:
        return CreatedJob(job, replayed=False)
    # Round trip 3: marking the outbox row sent.
    if not after_commit.send(database, publisher, message):
        metrics.add_metric(name="JobMessageSendFailed", unit="Count", value=1)
    return CreatedJob(job, replayed=False)


def _create_in_transaction(
    database: Database,
    user_id: UUID,
    request: CreateJobRequest,
    request_hash: str,
    idempotency_key: str | None,
    job_id: UUID,
) -> CreatedJob | tuple[TrainingJob, after_commit.Written]:
    """The replayed answer for a key already used, or the job stored and the message it queued."""
    # One instant: the month the limit is checked in is the month the job is created in.
    now = datetime.now(UTC)
    with database.tenant_transaction(user_id) as conn:
        # Round trip 1: everything queued here is sent together when the first result is read.
        lock = stored = None
        if idempotency_key is not None:
            lock = idempotency_repository.try_lock(conn, user_id, idempotency_key)
            stored = idempotency_repository.find(conn, user_id, idempotency_key)
        dataset = datasets_repository.find_for_user(conn, request.dataset_id, user_id)
        # The month's limit and spend, under the user's budget lock (waited for only if another holds it).
        fits_the_month = budgets_usage.queue_create_check(conn, user_id, now)
        if lock is not None and stored is not None:
            replay = _replay(lock.result(), stored.result(), request_hash)
            if replay is not None:
                return CreatedJob(replay, replayed=True)

        # Round trip 2: the inserts travel with the COMMIT, and the job's row comes back with it.
        row, message = _store_job(conn, user_id, request, dataset.result(), job_id, fits_the_month, now)
        if idempotency_key is not None:
            idempotency_repository.save(
                conn, user_id=user_id, key=idempotency_key, request_hash=request_hash, job_id=job_id
            )
    return TrainingJob.model_validate(row.result()), message


def _after_an_interrupted_commit(database: Database, user_id: UUID, job_id: UUID) -> tuple[TrainingJob, None]:
    """The COMMIT was sent and the answer lost: look the job up, on a new connection."""
    try:
        row = database.read(user_id, lambda conn: jobs_repository.get_for_user(conn, job_id, user_id).result)
    except DatabaseUnavailable:
        logger.error(
            "job creation outcome unknown: the commit's answer and the lookup both failed", job_id=str(job_id)
        )
        raise CreationOutcomeUnknown() from None
    if row is None:
        logger.warning("commit interrupted; the job was not created", job_id=str(job_id))
        raise DatabaseUnavailable()
    logger.warning("commit interrupted, but the job was created", job_id=str(job_id))
    # Its message committed with it, in the outbox: the relay sends it (no send from here).
    return TrainingJob.model_validate({key: value for key, value in row.items() if key != "dataset"}), None


def _replay(
    locked: bool, stored: idempotency_repository.StoredResponse | None, request_hash: str
) -> TrainingJob | None:
    if not locked:
        raise IdempotencyKeyInFlight()
    if stored is None:
        return None
    if stored.request_hash != request_hash:
        raise IdempotencyKeyReused()
    return TrainingJob.model_validate_json(stored.response_body)


def _store_job(
    conn: Connection,
    user_id: UUID,
    request: CreateJobRequest,
    dataset: Dataset | None,
    job_id: UUID,
    fits_the_month: Callable[[Decimal], None],
    now: datetime,
) -> tuple[Deferred[dict[str, Any]], after_commit.Written]:
    """Check the dataset, the client's estimate, the job's max_cost and the month's limit, then queue the
    job, notification and outbox row; the job's row is read once the transaction's results are."""
    if dataset is None:
        raise DatasetNotFound()
    if not dataset.ready_for_training:
        raise DatasetNotReady(status=dataset.status, training_ready=dataset.training_ready)

    # The figures, not the Estimate response model: building that model's validator lengthens a cold
    # start, and only the 409 answer needs it (the bench's cold-start rows measure it).
    figures = figures_for_dataset(dataset, request.base_model, request.gpu_config, request.hyperparameters)
    client_estimate = Decimal(repr(request.estimated_cost))
    # Exactly the figure the user confirmed, to the cent, or nothing: a job is never stored at a price
    # the user was not shown (a cent of tolerance let 5.95 be stored where 5.94 was confirmed).
    if client_estimate != figures.estimated_cost:
        raise EstimateOutOfDate(
            submitted=client_estimate,
            current_cost=figures.estimated_cost,
            current=estimate_from_figures(figures, dataset.name, request.base_model).model_dump(mode="json"),
        )

    max_cost = checked_max_cost(request.max_cost, figures.estimated_cost)
    fits_the_month(budget_rules.reservation(figures.estimated_cost, max_cost))

    # Dumped through the request's own serializer: dumping the nested models by themselves would build
    # two more validators at a cold start.
    configuration = request.model_dump(
        mode="json", include={"gpu_config", "hyperparameters"}, exclude_none=True
    )
    new_job = jobs_repository.NewJob(
        id=job_id,
        user_id=user_id,
        dataset_id=dataset.id,
        dataset_name=dataset.name,
        dataset_format=dataset.format,
        dataset_total_training_pairs=dataset.total_training_pairs,
        preset_id=request.preset_id,
        base_model=request.base_model,
        total_epochs=request.hyperparameters.epochs,
        total_steps=figures.total_steps,
        gpu_config=configuration["gpu_config"],
        hyperparameters=configuration["hyperparameters"],
        estimated_total_cost=figures.estimated_cost,
        pricing_version=PRICING_VERSION,
        queued_at=now,
        max_cost=max_cost,
    )
    row = jobs_repository.insert(conn, new_job)
    job_notifications.notify(
        conn, JobMoment.QUEUED, user_id=user_id, job_id=job_id, dataset_name=dataset.name
    )

    message = TrainingJobQueuedMessage(
        job_id=job_id,
        user_id=user_id,
        dataset_id=dataset.id,
        preset_id=request.preset_id,
        base_model=request.base_model,
        gpu_config=request.gpu_config,
        hyperparameters=request.hyperparameters,
        total_steps=new_job.total_steps,
        estimated_total_cost=new_job.estimated_total_cost,
        pricing_version=new_job.pricing_version,
        queued_at=new_job.queued_at,
    ).model_dump_json(exclude_none=True)
    written = after_commit.write(
        conn,
        user_id=user_id,
        job_id=job_id,
        destination=Destination.JOBS,
        message_type=JOB_QUEUED_TYPE,
        version=JOB_QUEUED_VERSION,
        body=message,
    )
    return row, written

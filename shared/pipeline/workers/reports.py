"""Applying the workers' reports to jobs: the consumer side of the contract in report_messages.py.

One transaction per report, as the job's tenant: the job row is locked, the report checked against
the job's last applied sequence (a duplicate or an older report changes nothing; a gap is logged and
the report applied: reports carry cumulative figures), planned by workers/lifecycle.py (which refuses
what the state machine does not allow, and figures that cannot be true), and written with its events,
chart point and notification.

A report that can never apply, for a reason in the report itself (invalid, an unknown version,
unstorable text, a key outside its job's prefix, figures that cannot be true, a job that is over or
unknown), is acknowledged, logged with its job and sequence, and counted (an alarm watches the
counts): it never holds its job's later reports back. A worker reporting on a job that is over or
unknown is told to stop it (training_job.cancel_requested on the control topic, naming the job and the
user the report named), so a late or stray worker stops within a step. Only a failure on our side
(the database unavailable) raises, so the queue delivers the report again.
"""

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final, NamedTuple

import psycopg
from pydantic import Field, TypeAdapter, ValidationError

from pipeline.artifacts import locations as artifacts
from pipeline.artifacts import repository as checkpoints_repository
from pipeline.artifacts.models import MAX_CHECKPOINTS_PER_JOB
from pipeline.budgets import repository as budgets_repository
from pipeline.budgets import rules as budget_rules
from pipeline.catalog.gpu_prices import prices_for
from pipeline.db.database import Connection, Database
from pipeline.history import event_log
from pipeline.history import repository as job_events_repository
from pipeline.jobs import notifications as job_notifications
from pipeline.jobs import repository as jobs_repository
from pipeline.jobs.states import IllegalTransition, JobStatus, is_final
from pipeline.outbox import after_commit
from pipeline.outbox.after_commit import Publisher
from pipeline.runtime.observability import logger
from pipeline.runtime.queue_consumer import envelope
from pipeline.runtime.settings import EnvSettings
from pipeline.workers import control as worker_control
from pipeline.workers.lifecycle import JobSnapshot, Report, ReportRefused, plan_report
from pipeline.workers.messages import (
    CANCEL_REQUESTED_TYPE,
    WORKER_MESSAGE_VERSION,
    TrainingJobCancelRequested,
)
from pipeline.workers.report_messages import REPORT_VERSION, WorkerReport


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"  # sequence at or below the last applied: a re-delivery or an old report
    REFUSED = "refused"  # the job's status does not allow it (e.g. progress for a cancelled job)
    IMPLAUSIBLE = "implausible"  # figures that cannot be true of the job (backwards, beyond possible)
    JOB_NOT_FOUND = "job_not_found"
    UNPROCESSABLE = "unprocessable"  # invalid, or a type or version this code does not know


_REPORT: Final = TypeAdapter[Report](WorkerReport)


def parse_report(body: str) -> Report | None:
    try:
        return _REPORT.validate_json(body)
    except ValidationError as exc:
        claimed = envelope(body)
        logger.warning(
            "invalid worker report acknowledged",
            report_kind=str(claimed.kind) if claimed else None,
            job_id=claimed.job_id if claimed else None,
            sequence=claimed.sequence if claimed else None,
            known_version=REPORT_VERSION,
            errors=exc.errors(include_url=False, include_input=False)[:5],
        )
        return None


class ReportSettings(EnvSettings):
    # How much faster than the wall clock a worker's GPU time may run: 1 for real GPUs, whose time is
    # the clock's. The local stack's simulated worker runs WORKER_SPEED simulated seconds per second.
    worker_time_scale: Decimal = Field(default=Decimal(1), ge=1, le=10_000, alias="WORKER_TIME_SCALE")


def apply_report(
    database: Database,
    body: str,
    workers: Publisher,
    *,
    now: datetime | None = None,
    time_scale: Decimal = Decimal(1),
) -> Outcome:
    report = parse_report(body)
    if report is None:
        return Outcome.UNPROCESSABLE
    job_id = report.job_id
    key = getattr(report, "object_key", None) or getattr(report, "artifact_key", None)
    if key is not None and not artifacts.belongs_to_job(key, report.user_id, job_id):
        # Outside the prefix the assignment gave: never stored, so never signed for anyone.
        logger.warning(
            "worker report with a key outside its job's prefix acknowledged",
            job_id=str(job_id),
            sequence=report.sequence,
            report_type=report.type,
            expected_prefix=artifacts.job_prefix(report.user_id, job_id),
        )
        return Outcome.UNPROCESSABLE
    try:
        outcome, stop = _apply(database, workers, report, now or datetime.now(UTC), time_scale)
    except psycopg.DataError:
        # A value the database refuses (the model's bounds should have caught it): the report's own
        # fault, never a reason to hold its job's later reports back.
        logger.exception(
            "worker report the database refused acknowledged",
            job_id=str(job_id),
            sequence=report.sequence,
            report_type=report.type,
        )
        return Outcome.UNPROCESSABLE
    if stop:
        tell_to_stop(workers, report, now or datetime.now(UTC))
    return outcome


def _apply(
    database: Database, workers: Publisher, report: Report, now: datetime, time_scale: Decimal
) -> tuple[Outcome, bool]:
    """The outcome, and whether the worker should be told to stop the job (it is over, or unknown). A
    stop a budget asks for is queued with the report and sent here, after the commit."""
    job_id = report.job_id
    # The report names its user: row level security then shows only that user's job, so a report with
    # a wrong user_id finds nothing.
    with database.tenant_transaction(report.user_id) as conn:
        row = jobs_repository.lock_for_report(conn, job_id)
        if row is None:
            logger.warning(
                "worker report for an unknown job acknowledged", job_id=str(job_id), sequence=report.sequence
            )
            return Outcome.JOB_NOT_FOUND, True
        if report.sequence <= row["last_report_sequence"]:
            logger.info("duplicate or old worker report", job_id=str(job_id), sequence=report.sequence)
            return Outcome.DUPLICATE, False
        if report.sequence > row["last_report_sequence"] + 1:
            logger.warning(
                "worker reports missing; applying the newer one",
                job_id=str(job_id),
                after=row["last_report_sequence"],
                sequence=report.sequence,
            )
        outcome, stop = apply_locked(conn, row, report, now, time_scale=time_scale)
    if stop is not None:
        after_commit.send(database, workers, stop)
    if outcome is Outcome.APPLIED:
        logger.info(
            "worker report applied", job_id=str(job_id), report_type=report.type, sequence=report.sequence
        )
    return outcome, outcome is Outcome.REFUSED and is_final(JobStatus(row["status"]))


def tell_to_stop(workers: Publisher, report: Report, now: datetime) -> None:
    """training_job.cancel_requested for the report's job and user, sent now (no outbox: the worker's
    next report, refused in turn, asks again). Never raises."""
    body = TrainingJobCancelRequested(
        job_id=report.job_id, user_id=report.user_id, requested_at=now
    ).model_dump_json()
    try:
        workers.publish(
            body=body,
            message_type=CANCEL_REQUESTED_TYPE,
            version=WORKER_MESSAGE_VERSION,
            job_id=report.job_id,
        )
    except Exception:  # noqa: BLE001 - the next refused report sends it again
        logger.warning("could not tell a worker to stop", job_id=str(report.job_id), exc_info=True)
        return
    logger.info("worker told to stop a job that is over or unknown", job_id=str(report.job_id))


class Applied(NamedTuple):
    outcome: Outcome
    stop: after_commit.Written | None = None  # a budget stopped the job: send once committed


def apply_locked(
    conn: Connection, row: dict[str, Any], report: Report, now: datetime, *, time_scale: Decimal = Decimal(1)
) -> Applied:
    """Plan the report against the job `row` (read with lock_for_report, on `conn`, in the caller's
    transaction) and write the plan: APPLIED (with the stop a budget asks for, queued in the outbox, to
    send after the commit), REFUSED when the state machine does not allow it, IMPLAUSIBLE when its
    figures cannot be true."""
    job_id = report.job_id
    prices = prices_for(row["pricing_version"], row["gpu_type"])
    snapshot = JobSnapshot(
        status=JobStatus(row["status"]),
        current_step=row["current_step"],
        current_epoch=row["current_epoch"],
        total_steps=row["total_steps"],
        total_epochs=row["total_epochs"],
        progress=row["progress"],
        started_at=row["started_at"],
        cancellation_requested_at=row["cancellation_requested_at"],
        estimated_total_cost=row["estimated_total_cost"],
        price_per_gpu_hour=prices.price_per_gpu_hour,
        storage_cost=prices.storage_cost,
        gpu_seconds=row["gpu_seconds"],
        gpu_count=row["gpu_count"],
        current_metrics=row["current_metrics"],
        time_scale=time_scale,
        last_chart_step=row["last_chart_step"],
        current_cost=row["current_cost"],
        max_cost=row["max_cost"],
        month_room=budgets_repository.room_for_job(
            conn, report.user_id, job_id, budget_rules.month_of(row["created_at"])
        ),
        stop_reason=row["stop_reason"],
    )
    try:
        plan = plan_report(snapshot, report, now)
    except IllegalTransition as refused:
        logger.warning(
            "worker report refused",
            job_id=str(job_id),
            report_type=report.type,
            sequence=report.sequence,
            reason=str(refused),
        )
        return Applied(Outcome.REFUSED)
    except ReportRefused as implausible:
        logger.warning(
            "worker report with figures that cannot be true refused",
            job_id=str(job_id),
            report_type=report.type,
            sequence=report.sequence,
            reason=implausible.reason,
            figures=implausible.figures,
        )
        return Applied(Outcome.IMPLAUSIBLE)
    # Heard from: the watchdog measures a running job's silence from here.
    jobs_repository.update_for_report(conn, job_id, plan.updates | {"last_report_at": now})
    for event in plan.events:
        event_log.record(
            conn, job_id=job_id, user_id=report.user_id, type=event.type, data=event.data, at=now
        )
    if plan.metric_point is not None:
        job_events_repository.insert_metric_point(
            conn, job_id=job_id, user_id=report.user_id, point=plan.metric_point
        )
    if plan.checkpoint is not None:
        checkpoints_repository.insert_checkpoint(
            conn, job_id=job_id, user_id=report.user_id, cap=MAX_CHECKPOINTS_PER_JOB, **plan.checkpoint
        )
    if plan.notify is not None:
        job_notifications.notify(
            conn,
            plan.notify,
            user_id=report.user_id,
            job_id=job_id,
            dataset_name=row["dataset_name"],
            stop_reason=row["stop_reason"],
        )
    stop = None
    if plan.stop:
        logger.info("a budget stops the job", job_id=str(job_id), stop_reason=plan.updates["stop_reason"])
        stop = worker_control.queue_stop(conn, job_id, report.user_id, now)
    return Applied(Outcome.APPLIED, stop)

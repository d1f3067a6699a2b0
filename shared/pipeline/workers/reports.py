"""Applying the workers' reports to jobs: the consumer side of the contract in report_messages.py.

One transaction per report, as the job's tenant: the job row is locked, the report checked against
the job's last applied sequence (a duplicate or an older report changes nothing; a gap is logged and
the report applied: reports carry cumulative figures), planned by job_lifecycle (which refuses what
the state machine does not allow), and written with its events, chart point and notification.
Reports that can never apply (invalid, unknown version, job gone, illegal for the job's status) are
acknowledged and logged; a database failure raises, so the queue delivers the report again.
"""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

from pydantic import TypeAdapter, ValidationError

from pipeline.artifacts import locations as artifacts
from pipeline.artifacts import repository as checkpoints_repository
from pipeline.catalog.gpu_prices import prices_for
from pipeline.db.database import Connection, Database
from pipeline.history import event_log
from pipeline.history import repository as job_events_repository
from pipeline.jobs import notifications as job_notifications
from pipeline.jobs import repository as jobs_repository
from pipeline.jobs.states import IllegalTransition, JobStatus
from pipeline.runtime.observability import logger
from pipeline.runtime.queue_consumer import envelope_kind
from pipeline.workers.lifecycle import JobSnapshot, Report, plan_report
from pipeline.workers.report_messages import REPORT_VERSION, WorkerReport


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"  # sequence at or below the last applied: a re-delivery or an old report
    REFUSED = "refused"  # the job's status does not allow it (e.g. progress for a cancelled job)
    JOB_NOT_FOUND = "job_not_found"
    UNPROCESSABLE = "unprocessable"  # invalid, or a type or version this code does not know


_REPORT: Final = TypeAdapter[Report](WorkerReport)


def parse_report(body: str) -> Report | None:
    try:
        return _REPORT.validate_json(body)
    except ValidationError as exc:
        kind = envelope_kind(body)
        logger.warning(
            "invalid worker report acknowledged",
            report_kind=str(kind),
            known_version=REPORT_VERSION,
            errors=exc.errors(include_url=False, include_input=False)[:5],
        )
        return None


def apply_report(database: Database, body: str, *, now: datetime | None = None) -> Outcome:
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
            report_type=report.type,
            expected_prefix=artifacts.job_prefix(report.user_id, job_id),
        )
        return Outcome.UNPROCESSABLE
    # The report names its user: row level security then shows only that user's job, so a report with
    # a wrong user_id finds nothing.
    with database.tenant_transaction(report.user_id) as conn:
        row = jobs_repository.lock_for_report(conn, job_id)
        if row is None:
            logger.warning("worker report for an unknown job acknowledged", job_id=str(job_id))
            return Outcome.JOB_NOT_FOUND
        if report.sequence <= row["last_report_sequence"]:
            logger.info("duplicate or old worker report", job_id=str(job_id), sequence=report.sequence)
            return Outcome.DUPLICATE
        if report.sequence > row["last_report_sequence"] + 1:
            logger.warning(
                "worker reports missing; applying the newer one",
                job_id=str(job_id),
                after=row["last_report_sequence"],
                sequence=report.sequence,
            )
        outcome = apply_locked(conn, row, report, now or datetime.now(UTC))
    if outcome is Outcome.APPLIED:
        logger.info(
            "worker report applied", job_id=str(job_id), report_type=report.type, sequence=report.sequence
        )
    return outcome


def apply_locked(conn: Connection, row: dict[str, Any], report: Report, now: datetime) -> Outcome:
    """Plan the report against the job `row` (read with lock_for_report, on `conn`, in the caller's
    transaction) and write the plan: APPLIED, or REFUSED when the state machine does not allow it."""
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
        return Outcome.REFUSED
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
            conn, job_id=job_id, user_id=report.user_id, **plan.checkpoint
        )
    if plan.notify is not None:
        job_notifications.notify(
            conn, plan.notify, user_id=report.user_id, job_id=job_id, dataset_name=row["dataset_name"]
        )
    return Outcome.APPLIED

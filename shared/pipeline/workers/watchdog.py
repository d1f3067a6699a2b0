"""The watchdog (JobWatchdogFunction, scheduled): no job is left running or initializing forever.

- A running job whose worker stopped reporting is failed (`worker_lost`): nothing was heard from its
  worker (its last applied report, else its start) for JOB_SILENCE_SECONDS. It is charged the GPU time
  its last report counted.
- A job handed to the workers that no worker started (its assignment lost, no worker taking tasks) is
  failed (`worker_never_started`) once it has been initializing for JOB_START_TIMEOUT_SECONDS. It is
  charged nothing: no worker reported any GPU time.

The watchdog finds such jobs across tenants (migrations 0011 and 0014's policies), then fails each in
its own tenant transaction, re-checked under the row lock (a report that arrived meanwhile wins),
exactly as a worker's failure report would: `training_job.failed` with the figures of the last report,
so its events, notification and webhooks are written and the state machine decides. The report takes
the next sequence number: a worker that comes back finds that number taken and everything after
refused. A stop is sent to the workers too, so a host that is alive but unheard stops burning GPU time.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final
from uuid import UUID

from pydantic import Field

from pipeline.db.database import Connection, Database
from pipeline.jobs import repository as jobs_repository
from pipeline.jobs.states import JobStatus
from pipeline.outbox import after_commit
from pipeline.outbox.after_commit import Publisher
from pipeline.runtime.observability import logger
from pipeline.runtime.settings import EnvSettings
from pipeline.workers import control as worker_control
from pipeline.workers import reports as job_reports
from pipeline.workers.report_messages import REPORT_VERSION, JobError, JobFailed

WORKER_LOST: Final = "worker_lost"
WORKER_NEVER_STARTED: Final = "worker_never_started"
_BATCH: Final = 100


class WatchdogSettings(EnvSettings):
    silence_s: int = Field(default=900, alias="JOB_SILENCE_SECONDS", ge=60)
    # How long a worker has to start a job once it is handed to the workers (its `started` report, or
    # any report that says it runs).
    start_timeout_s: int = Field(default=1800, alias="JOB_START_TIMEOUT_SECONDS", ge=60)


@dataclass(frozen=True)
class WatchdogRun:
    found: int  # jobs found abandoned
    failed: int  # of those, failed now (the others reported meanwhile, or finished)


def fail_silent_jobs(database: Database, workers: Publisher, *, now: datetime, silence_s: int) -> WatchdogRun:
    """Running jobs not heard from for `silence_s`: failed as worker_lost."""
    cutoff = now - timedelta(seconds=silence_s)
    with database.connection() as conn:
        found = jobs_repository.silent_running_jobs(conn, cutoff, _BATCH)
    error = JobError(
        code=WORKER_LOST,
        message=(
            f"The GPU worker stopped reporting: nothing was heard from it for {silence_s // 60}"
            " minutes, so the job was stopped. You are charged only for the GPU time it reported."
        ),
    )
    return _fail_all(database, workers, found, JobStatus.RUNNING, cutoff, now, error)


def fail_unstarted_jobs(
    database: Database, workers: Publisher, *, now: datetime, start_timeout_s: int
) -> WatchdogRun:
    """Jobs initializing for `start_timeout_s` with no worker's report: failed as worker_never_started."""
    cutoff = now - timedelta(seconds=start_timeout_s)
    with database.connection() as conn:
        found = jobs_repository.unstarted_jobs(conn, cutoff, _BATCH)
    error = JobError(
        code=WORKER_NEVER_STARTED,
        message=(
            f"No GPU worker started the job within {start_timeout_s // 60} minutes of it being handed to"
            " the workers, so it was stopped. You are not charged: no GPU time was used."
        ),
    )
    return _fail_all(database, workers, found, JobStatus.INITIALIZING, cutoff, now, error)


def _fail_all(
    database: Database,
    workers: Publisher,
    found: list[tuple[UUID, UUID]],
    status: JobStatus,
    cutoff: datetime,
    now: datetime,
    error: JobError,
) -> WatchdogRun:
    """Fail each (job_id, user_id) found still `status` and unheard from since `cutoff`."""
    failed = sum(
        _fail(database, workers, job_id, user_id, status, cutoff, now, error) for job_id, user_id in found
    )
    return WatchdogRun(found=len(found), failed=failed)


def _fail(
    database: Database,
    workers: Publisher,
    job_id: UUID,
    user_id: UUID,
    status: JobStatus,
    cutoff: datetime,
    now: datetime,
    error: JobError,
) -> bool:
    with database.tenant_transaction(user_id) as conn:
        row = jobs_repository.lock_for_report(conn, job_id)
        if row is None or row["status"] != status or row["last_heard_at"] >= cutoff:
            return False  # it finished, started or reported since the search
        if not _applied(conn, row, job_id, user_id, now, error):
            return False
        stop = worker_control.queue_stop(conn, job_id, user_id, now)
    logger.warning(
        "abandoned job failed",
        job_id=str(job_id),
        status_before=status,
        error_code=error.code,
        last_heard_at=row["last_heard_at"].isoformat(),
    )
    after_commit.send(database, workers, stop)
    return True


def _applied(
    conn: Connection, row: dict[str, Any], job_id: UUID, user_id: UUID, now: datetime, error: JobError
) -> bool:
    report = JobFailed(
        type="training_job.failed",
        version=REPORT_VERSION,
        job_id=job_id,
        user_id=user_id,
        sequence=row["last_report_sequence"] + 1,
        sent_at=now,
        step=row["current_step"],
        epoch=row["current_epoch"],
        gpu_seconds=row["gpu_seconds"],
        error=error,
    )
    return job_reports.apply_locked(conn, row, report, now).outcome is job_reports.Outcome.APPLIED

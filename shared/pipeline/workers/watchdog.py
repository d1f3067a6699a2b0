"""The watchdog (JobWatchdogFunction, scheduled): a running job whose worker stopped reporting is
failed, so no job stays `running` forever after its GPU host died or lost the network.

A job is silent when nothing was heard from its worker (its last applied report, else its start) for
JOB_SILENCE_SECONDS. The watchdog finds such jobs across tenants (migration 0011's policy), then fails
each in its own tenant transaction, re-checked under the row lock (a report that arrived meanwhile
wins), exactly as a worker's failure report would: `training_job.failed` with code `worker_lost` and
the figures of the last report, so the job is charged the GPU time that report counted, its events
and notification are written, and the state machine decides. The report takes the next sequence
number: a worker that comes back finds that number taken and everything after refused. A stop is
sent to the workers too, so a host that is alive but unheard stops burning GPU time.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final
from uuid import UUID

from pydantic import Field

from pipeline.db.database import Database
from pipeline.jobs import repository as jobs_repository
from pipeline.jobs.states import JobStatus
from pipeline.outbox import after_commit
from pipeline.outbox.after_commit import Publisher
from pipeline.runtime.observability import logger
from pipeline.runtime.settings import EnvSettings
from pipeline.workers import control as worker_control
from pipeline.workers import reports as job_reports
from pipeline.workers.report_messages import JobError, JobFailed

WORKER_LOST: Final = "worker_lost"
_BATCH: Final = 100


class WatchdogSettings(EnvSettings):
    silence_s: int = Field(default=900, alias="JOB_SILENCE_SECONDS", ge=60)


@dataclass(frozen=True)
class WatchdogRun:
    silent: int  # running jobs found silent
    failed: int  # of those, failed now (the others reported meanwhile, or finished)


def fail_silent_jobs(database: Database, workers: Publisher, *, now: datetime, silence_s: int) -> WatchdogRun:
    cutoff = now - timedelta(seconds=silence_s)
    with database.connection() as conn:
        silent = jobs_repository.silent_running_jobs(conn, cutoff, _BATCH)
    failed = sum(
        _fail(database, workers, job_id, user_id, cutoff, now, silence_s) for job_id, user_id in silent
    )
    return WatchdogRun(silent=len(silent), failed=failed)


def _fail(
    database: Database,
    workers: Publisher,
    job_id: UUID,
    user_id: UUID,
    cutoff: datetime,
    now: datetime,
    silence_s: int,
) -> bool:
    with database.tenant_transaction(user_id) as conn:
        row = jobs_repository.lock_for_report(conn, job_id)
        if row is None or row["status"] != JobStatus.RUNNING or row["last_heard_at"] >= cutoff:
            return False  # it finished or reported since the search
        report = JobFailed(
            type="training_job.failed",
            job_id=job_id,
            user_id=user_id,
            sequence=row["last_report_sequence"] + 1,
            sent_at=now,
            step=row["current_step"],
            epoch=row["current_epoch"],
            gpu_seconds=row["gpu_seconds"],
            error=JobError(
                code=WORKER_LOST,
                message=(
                    f"The GPU worker stopped reporting: nothing was heard from it for {silence_s // 60}"
                    " minutes, so the job was stopped. You are charged only for the GPU time it reported."
                ),
            ),
        )
        if job_reports.apply_locked(conn, row, report, now) is not job_reports.Outcome.APPLIED:
            return False
        stop = worker_control.queue_stop(conn, job_id, user_id, now)
    logger.warning(
        "silent job failed",
        job_id=str(job_id),
        last_heard_at=row["last_heard_at"].isoformat(),
        silence_s=silence_s,
    )
    after_commit.send(database, workers, stop)
    return True

"""What a worker's report does to a job: pure, no I/O. The report consumer (workers/reports.py) reads the
job, asks `plan_report`, and writes the plan in one transaction.

- Statuses move only through jobs.states.transition. A report that implies the job is running (its
  progress, a checkpoint, its completion) while it is still initializing first moves it to running, so
  a lost `started` report leaves nothing stuck; a failure or a stop during initializing ends it there.
- Figures are cumulative: the plan sets them from the report (never adds).
- Cost: the GPU time used at the job's own prices (usage_cost), updated with every report.
- Events: every status change, every checkpoint and error, and progress at milestones only (every 5 %
  and every epoch), each with the cost so far; not every step.
- A completion that arrives after a cancel request wins: the work is done and the adapter exists; the
  status_changed event says the cancellation came too late.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any, Final

from pipeline.jobs.notifications import JobMoment
from pipeline.jobs.states import IllegalTransition, JobStatus, transition
from pipeline.pricing import usage_cost
from pipeline.workers.report_messages import (
    CheckpointSaved,
    JobCancelled,
    JobCompleted,
    JobFailed,
    JobProgress,
    JobStarted,
)

PROGRESS_MILESTONE_PERCENT: Final = 5
_PERCENT: Final = Decimal("0.01")

Report = JobStarted | JobProgress | CheckpointSaved | JobCompleted | JobFailed | JobCancelled


@dataclass(frozen=True)
class JobSnapshot:
    """The job as the report finds it (read under a row lock)."""

    status: JobStatus
    current_step: int
    current_epoch: int
    total_steps: int
    total_epochs: int
    progress: Decimal
    started_at: datetime | None
    cancellation_requested_at: datetime | None
    estimated_total_cost: Decimal
    price_per_gpu_hour: Decimal
    storage_cost: Decimal


@dataclass(frozen=True)
class PlannedEvent:
    type: str
    data: dict[str, Any]


@dataclass
class ReportPlan:
    updates: dict[str, Any] = field(default_factory=dict)  # column -> new value
    events: list[PlannedEvent] = field(default_factory=list)
    notify: JobMoment | None = None
    metric_point: dict[str, Any] | None = None  # step, epoch, train_loss, validation_loss
    checkpoint: dict[str, Any] | None = None  # step, epoch, object_key, metrics (job_checkpoints)


_FINAL_STATUS: Final = {
    JobCompleted: JobStatus.COMPLETED,
    JobFailed: JobStatus.FAILED,
    JobCancelled: JobStatus.CANCELLED,
}
_MOMENTS: Final = {
    JobStatus.COMPLETED: JobMoment.COMPLETED,
    JobStatus.FAILED: JobMoment.FAILED,
    JobStatus.CANCELLED: JobMoment.CANCELLED,
}


def plan_report(job: JobSnapshot, report: Report, now: datetime) -> ReportPlan:
    """The changes `report` makes to `job`. Raises jobs.states.IllegalTransition for a report the job's
    status does not allow (a start for a cancelled job, anything after the end): nothing is applied."""
    plan = ReportPlan(updates={"last_report_sequence": report.sequence})
    status = job.status
    started_at = job.started_at
    implies_running = isinstance(report, JobProgress | CheckpointSaved | JobCompleted)
    if isinstance(report, JobStarted) or (status is JobStatus.INITIALIZING and implies_running):
        status = transition(status, JobStatus.RUNNING)
        started_at = started_at or now
        plan.updates |= {"status": status, "current_stage": "training", "started_at": started_at}
        data: dict[str, Any] = {"from": job.status, "to": status}
        if not isinstance(report, JobStarted):
            data["implied_by"] = report.type  # the started report was lost or is late
        else:
            data["worker_id"] = report.worker_id
        plan.events.append(PlannedEvent("status_changed", data))
    if isinstance(report, JobStarted):
        return plan

    final = _FINAL_STATUS.get(type(report))
    before = status
    if final is not None:
        status = transition(status, final)
    elif status is not JobStatus.RUNNING:
        # Progress and checkpoints say the job is running: not for a job queued or already finished.
        raise IllegalTransition(status, JobStatus.RUNNING)
    cost = usage_cost.charge(
        gpu_seconds=report.gpu_seconds,
        price_per_gpu_hour=job.price_per_gpu_hour,
        storage_cost=job.storage_cost,
        completed=final is JobStatus.COMPLETED,
    )
    progress = _progress(report.step, job.total_steps, completed=final is JobStatus.COMPLETED)
    plan.updates |= {
        "current_step": report.step,
        "current_epoch": min(report.epoch, job.total_epochs),
        "gpu_seconds": report.gpu_seconds,
        "current_cost": cost,
        "progress": progress,
    }
    metrics = getattr(report, "metrics", None)
    if metrics is not None:
        measured = metrics.model_dump(exclude_none=True)
        if measured:
            plan.updates["current_metrics"] = measured
            plan.metric_point = {
                "step": report.step,
                "epoch": report.epoch,
                "train_loss": metrics.train_loss,
                "validation_loss": metrics.validation_loss,
            }
    usage = {"step": report.step, "epoch": report.epoch, "progress": progress, "cost": cost}

    if final is None:
        plan.updates["estimated_finish_at"] = _estimated_finish(started_at, now, report.step, job.total_steps)
        if isinstance(report, CheckpointSaved):
            plan.events.append(PlannedEvent("checkpoint", usage | {"object_key": report.object_key}))
            plan.checkpoint = {
                "step": report.step,
                "epoch": report.epoch,
                "object_key": report.object_key,
                "metrics": report.metrics.model_dump(exclude_none=True),
            }
        elif _is_milestone(job, report.epoch, progress):
            plan.events.append(
                PlannedEvent("progress", usage | {"metrics": plan.updates.get("current_metrics", {})})
            )
        return plan

    plan.updates |= {
        "status": status,
        "current_stage": status,
        "completed_at": now,
        "estimated_finish_at": None,
    }
    if isinstance(report, JobCompleted):
        plan.updates["artifact_key"] = report.artifact_key
    if isinstance(report, JobFailed):
        plan.updates |= {"error_code": report.error.code, "error_message": report.error.message}
        plan.events.append(
            PlannedEvent("error", {"code": report.error.code, "message": report.error.message})
        )
    change: dict[str, Any] = {"from": before, "to": status}
    if job.cancellation_requested_at is not None and final is not JobStatus.CANCELLED:
        change["cancellation"] = "too late: the job finished before the cancellation reached the worker"
    plan.events.append(PlannedEvent("status_changed", change))
    plan.events.append(
        PlannedEvent(
            "cost",
            usage
            | {
                "final": True,
                "estimated_total_cost": job.estimated_total_cost,
                "not_charged": max(job.estimated_total_cost - cost, Decimal("0.00")),
            },
        )
    )
    plan.notify = _MOMENTS[status]
    return plan


def _progress(step: int, total_steps: int, *, completed: bool) -> Decimal:
    if completed:
        return Decimal("100.00")
    # Down, never up: 99.999 % is not done.
    return min(Decimal(step) * 100 / Decimal(total_steps), Decimal(100)).quantize(
        _PERCENT, rounding=ROUND_DOWN
    )


def _is_milestone(job: JobSnapshot, epoch: int, progress: Decimal) -> bool:
    before = int(job.progress) // PROGRESS_MILESTONE_PERCENT
    return int(progress) // PROGRESS_MILESTONE_PERCENT > before or epoch > job.current_epoch


def _estimated_finish(
    started_at: datetime | None, now: datetime, step: int, total_steps: int
) -> datetime | None:
    """At the pace so far: the remaining steps at the average seconds per step since the start."""
    if started_at is None or step <= 0 or now <= started_at:
        return None
    per_step = (now - started_at) / step
    return now + per_step * max(total_steps - step, 0)

"""What a worker's report does to a job: pure, no I/O. The report consumer (workers/reports.py) reads the
job, asks `plan_report`, and writes the plan in one transaction.

- Statuses move only through jobs.states.transition. A report that implies the job is running (its
  progress, a checkpoint, its completion) while it is still initializing first moves it to running, so
  a lost `started` report leaves nothing stuck; a failure or a stop during initializing ends it there.
- Figures are cumulative: the plan sets them from the report (never adds). They never go backwards
  (a step, epoch or GPU time below the job's is refused), never past the job's totals, and the GPU
  time never past what the job's GPUs could have used since it was handed to the workers (the
  wall-clock time since then, plus 2 % and 2 minutes, times its GPU count): a buggy or hostile worker
  can neither lower a charge nor bill a week for an hour. A refused report changes nothing. A report
  identical to the job's figures adds nothing either (no event, no chart point).
- Cost: the GPU time used at the job's own prices (usage_cost), updated with every report.
- Events: every status change, every checkpoint and error, and progress at milestones only (every 5 %
  and every epoch), each with the cost so far; not every step.
- The loss chart: a point for a report with losses at least a stride of steps after the last point
  (total_steps / MAX_CHART_POINTS, at least 1), and always the final report's: a job keeps about
  MAX_CHART_POINTS points, however often its worker reports.
- A completion that arrives after a cancel request wins: the work is done and the adapter exists; the
  status_changed event says the cancellation came too late.
- Budgets: a job is never charged more than its cap (its max_cost, and what its month's spending limit
  leaves it: budgets.rules.cap). A report whose cost reaches the cap, for a job still running, asks the
  workers to stop it (the plan's `stop`), with stop_reason budget_reached or monthly_limit_reached; the
  cost of the last interval beyond the cap is not charged (ours, not the user's).
"""

import math
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any, Final

from pipeline.budgets import rules as budget_rules
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
MAX_CHART_POINTS: Final = 10_000
# How much GPU time a report may claim beyond the wall-clock time since the job was handed to the
# workers (times its GPU count): the workers' and our clocks differ a little, and a report is sent a
# moment after it is measured.
GPU_TIME_TOLERANCE: Final = Decimal("0.02")
GPU_TIME_GRACE_SECONDS: Final = 120
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
    gpu_seconds: Decimal = Decimal(0)
    gpu_count: int = 1
    current_metrics: dict[str, Any] | None = None
    # How much faster than the clock a worker's time may run: 1 for real GPUs (see ReportSettings).
    time_scale: Decimal = Decimal(1)
    last_chart_step: int | None = None  # the step of the chart's last point
    current_cost: Decimal = Decimal("0.00")  # what it has been charged so far
    max_cost: Decimal | None = None  # the job's own budget
    month_room: Decimal | None = None  # what the month's spending limit leaves it in all; None: no limit
    stop_reason: str | None = None


class ReportRefused(Exception):
    """A report whose figures cannot be true of this job: it changes nothing. `figures` says what it
    claimed against what the job has, for the log."""

    def __init__(self, reason: str, **figures: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.figures = figures


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
    stop: bool = False  # a budget was reached: tell the workers to stop the job


_BUDGET_STOPS: Final = frozenset({"budget_reached", "monthly_limit_reached"})
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
    status does not allow (a start for a cancelled job, anything after the end), and ReportRefused for
    one whose figures cannot be true of the job: either way nothing is applied."""
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
    _check_figures(job, report, started_at or now, now)
    used = usage_cost.charge(
        gpu_seconds=report.gpu_seconds,
        price_per_gpu_hour=job.price_per_gpu_hour,
        storage_cost=job.storage_cost,
        completed=final is JobStatus.COMPLETED,
    )
    cap = _cap(job)
    stops = final is None and cap is not None and used >= cap and job.cancellation_requested_at is None
    was_running = job.status is JobStatus.RUNNING
    if isinstance(report, JobProgress) and was_running and _changes_nothing(job, report) and not stops:
        return ReportPlan(updates={"last_report_sequence": report.sequence})
    # Never past the cap, and never below what was charged already: a limit lowered under a running
    # job's charge stops it, but takes back nothing.
    cost = used if cap is None else min(used, max(cap, job.current_cost))
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
            if final is not None or _due_a_point(job, report.step):
                plan.updates["last_chart_step"] = report.step
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
        # After the report's own event: the feed reads the cost that reached the cap, then the stop.
        if stops and cap is not None:
            reason = "budget_reached" if cap == job.max_cost else "monthly_limit_reached"
            plan.updates |= {"cancellation_requested_at": now, "stop_reason": reason}
            plan.events.append(
                PlannedEvent("cancellation_requested", {"reason": reason, "cap": cap, "cost": cost})
            )
            plan.stop = True
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
    if job.stop_reason is not None and final is JobStatus.CANCELLED:
        change["stop_reason"] = job.stop_reason
    elif job.stop_reason is not None:  # it ended before the stop reached it: nothing stopped it
        plan.updates["stop_reason"] = None
    plan.events.append(PlannedEvent("status_changed", change))
    final_cost: dict[str, Any] = {
        "final": True,
        "estimated_total_cost": job.estimated_total_cost,
        "not_charged": max(job.estimated_total_cost - cost, Decimal("0.00")),
    }
    if used > cost:  # the last interval beyond the budget: ours
        final_cost |= {"cap": cap, "beyond_cap_not_charged": used - cost}
    plan.events.append(PlannedEvent("cost", usage | final_cost))
    plan.notify = _MOMENTS[status]
    return plan


def _check_figures(
    job: JobSnapshot,
    report: JobProgress | CheckpointSaved | JobCompleted | JobFailed | JobCancelled,
    handed_at: datetime,
    now: datetime,
) -> None:
    claimed: dict[str, Decimal | int] = {
        "step": report.step,
        "epoch": report.epoch,
        "gpu_seconds": report.gpu_seconds,
    }
    held: dict[str, Decimal | int] = {
        "step": job.current_step,
        "epoch": job.current_epoch,
        "gpu_seconds": job.gpu_seconds,
    }
    for name, value in claimed.items():
        if value < held[name]:
            raise ReportRefused(f"{name} went backwards", claimed=claimed, job=held)
    if report.step > job.total_steps:
        raise ReportRefused("step beyond the job's total_steps", claimed=claimed, total_steps=job.total_steps)
    if report.epoch > job.total_epochs:
        raise ReportRefused(
            "epoch beyond the job's total_epochs", claimed=claimed, total_epochs=job.total_epochs
        )
    possible = possible_gpu_seconds(handed_at, now, job.gpu_count, time_scale=job.time_scale)
    if report.gpu_seconds > possible:
        raise ReportRefused(
            "gpu_seconds beyond what the job's GPUs could have used", claimed=claimed, possible=possible
        )


def possible_gpu_seconds(
    handed_at: datetime, now: datetime, gpu_count: int, *, time_scale: Decimal = Decimal(1)
) -> Decimal:
    """The most GPU time a job handed to the workers at `handed_at` can have used by `now`."""
    elapsed = Decimal(str(max((now - handed_at).total_seconds(), 0.0))) * time_scale
    return ((elapsed * (1 + GPU_TIME_TOLERANCE) + GPU_TIME_GRACE_SECONDS) * gpu_count).quantize(
        Decimal("0.001")
    )


def _cap(job: JobSnapshot) -> Decimal | None:
    """The most the job may be charged in all (budget_rules.cap). Once a budget stopped it, what it was
    charged then: the time its worker used until it stopped is ours, even if the limit was raised since."""
    cap = budget_rules.cap(job.max_cost, job.month_room)
    if job.stop_reason in _BUDGET_STOPS:
        return job.current_cost if cap is None else min(cap, job.current_cost)
    return cap


def _changes_nothing(job: JobSnapshot, report: JobProgress) -> bool:
    """A progress report that says again what the job already holds (a worker's retry sent as a new
    report): it moves the sequence on and adds nothing."""
    measured = report.metrics.model_dump(exclude_none=True)
    return (
        report.step == job.current_step
        and report.epoch == job.current_epoch
        and report.gpu_seconds == job.gpu_seconds
        and measured == (job.current_metrics or {})
    )


def _due_a_point(job: JobSnapshot, step: int) -> bool:
    if job.last_chart_step is None:
        return True
    stride = max(1, math.ceil(job.total_steps / MAX_CHART_POINTS))
    return step >= job.last_chart_step + stride


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

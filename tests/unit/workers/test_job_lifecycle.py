"""What each worker report does to a job, planned without a database: statuses, figures, cost, events."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from pipeline.jobs.notifications import JobMoment
from pipeline.jobs.states import IllegalTransition, JobStatus
from pipeline.workers.lifecycle import JobSnapshot, Report, ReportRefused, plan_report, possible_gpu_seconds
from pipeline.workers.report_messages import (
    CheckpointSaved,
    JobCancelled,
    JobCompleted,
    JobError,
    JobFailed,
    JobProgress,
    JobStarted,
    TrainingMetrics,
)

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
IDS: dict[str, Any] = {"version": 1, "job_id": uuid4(), "user_id": uuid4(), "sent_at": NOW}


def _job(status: JobStatus = JobStatus.RUNNING, **changes: Any) -> JobSnapshot:
    fields: dict[str, Any] = {
        "status": status,
        "current_step": 0,
        "current_epoch": 0,
        "total_steps": 1000,
        "total_epochs": 2,
        "progress": Decimal("0.00"),
        "started_at": NOW - timedelta(minutes=10),
        "cancellation_requested_at": None,
        "estimated_total_cost": Decimal("5.00"),
        "price_per_gpu_hour": Decimal("3.60"),
        "storage_cost": Decimal("0.50"),
        # 8 GPUs for 10 minutes: up to 80 GPU-minutes (and the tolerance) may be reported.
        "gpu_count": 8,
    }
    return JobSnapshot(**(fields | changes))


def _progress(step: int, gpu_seconds: str = "600", epoch: int = 0, **extra: Any) -> JobProgress:
    return JobProgress(
        type="training_job.progress", sequence=2, step=step, epoch=epoch, gpu_seconds=Decimal(gpu_seconds),
        **IDS, **extra,
    )  # fmt: skip


def _types(events: list[Any]) -> list[str]:
    return [event.type for event in events]


def test_started_moves_an_initializing_job_to_running() -> None:
    report = JobStarted(type="training_job.started", sequence=1, worker_id="gpu-7", **IDS)

    plan = plan_report(_job(JobStatus.INITIALIZING, started_at=None), report, NOW)

    assert plan.updates == {
        "last_report_sequence": 1,
        "status": JobStatus.RUNNING,
        "current_stage": "training",
        "started_at": NOW,
    }
    assert [(e.type, e.data) for e in plan.events] == [
        ("status_changed", {"from": JobStatus.INITIALIZING, "to": JobStatus.RUNNING, "worker_id": "gpu-7"})
    ]
    assert plan.notify is None


def test_progress_sets_the_cumulative_figures_and_the_cost_at_the_jobs_price() -> None:
    metrics = TrainingMetrics(train_loss=1.25, validation_loss=1.5)
    plan = plan_report(_job(), _progress(step=300, gpu_seconds="900", metrics=metrics), NOW)

    assert {k: plan.updates[k] for k in ("current_step", "gpu_seconds", "current_cost", "progress")} == {
        "current_step": 300,
        "gpu_seconds": Decimal("900"),
        "current_cost": Decimal("0.90"),  # 900 s at $3.60 per GPU-hour; no storage until completed
        "progress": Decimal("30.00"),
    }
    assert plan.updates["current_metrics"] == {"train_loss": 1.25, "validation_loss": 1.5}
    assert plan.metric_point == {"step": 300, "epoch": 0, "train_loss": 1.25, "validation_loss": 1.5}
    # 300 steps in the 10 minutes since the start: the other 700 at the same pace.
    assert plan.updates["estimated_finish_at"] == NOW + timedelta(minutes=10) * 700 / 300


def test_progress_events_only_at_milestones_every_five_percent_or_epoch() -> None:
    assert _types(plan_report(_job(progress=Decimal("31.00")), _progress(step=320), NOW).events) == []
    assert _types(plan_report(_job(progress=Decimal("34.90")), _progress(step=350), NOW).events) == [
        "progress"
    ]
    assert _types(plan_report(_job(progress=Decimal("31.00")), _progress(step=320, epoch=1), NOW).events) == [
        "progress"
    ]


def test_progress_while_still_initializing_implies_the_lost_start() -> None:
    plan = plan_report(_job(JobStatus.INITIALIZING), _progress(step=50), NOW)

    assert plan.updates["status"] is JobStatus.RUNNING
    assert plan.events[0].data == {
        "from": JobStatus.INITIALIZING, "to": JobStatus.RUNNING, "implied_by": "training_job.progress",
    }  # fmt: skip


def test_a_checkpoint_is_an_event_with_its_object_key() -> None:
    report = CheckpointSaved(
        type="training_job.checkpoint_saved", sequence=2, step=500, epoch=1, gpu_seconds=Decimal("1800"),
        object_key="jobs/j/checkpoints/step-500", **IDS,
    )  # fmt: skip
    (event,) = plan_report(_job(), report, NOW).events

    assert (event.type, event.data["object_key"], event.data["step"]) == (
        "checkpoint",
        "jobs/j/checkpoints/step-500",
        500,
    )


def _completed(gpu_seconds: str = "3600") -> JobCompleted:
    return JobCompleted(
        type="training_job.completed", sequence=3, step=1000, epoch=2, gpu_seconds=Decimal(gpu_seconds),
        artifact_key="jobs/j/adapter", **IDS,
    )  # fmt: skip


def test_completion_charges_the_gpu_time_and_storage_and_says_what_of_the_estimate_is_not_charged() -> None:
    plan = plan_report(_job(), _completed(gpu_seconds="3600"), NOW)

    assert plan.updates["status"] is JobStatus.COMPLETED
    assert (plan.updates["progress"], plan.updates["current_cost"]) == (Decimal("100.00"), Decimal("4.10"))
    assert (plan.updates["completed_at"], plan.updates["artifact_key"]) == (NOW, "jobs/j/adapter")
    assert _types(plan.events) == ["status_changed", "cost"]
    assert plan.events[1].data["not_charged"] == Decimal("0.90")  # estimated 5.00, charged 4.10
    assert plan.notify is JobMoment.COMPLETED


def test_a_run_longer_than_estimated_is_charged_what_it_used() -> None:
    plan = plan_report(_job(started_at=NOW - timedelta(hours=1)), _completed(gpu_seconds="7200"), NOW)

    assert plan.updates["current_cost"] == Decimal("7.70")  # above the 5.00 estimate
    assert plan.events[1].data["not_charged"] == Decimal("0.00")


def test_a_completion_after_a_cancel_request_wins_and_the_event_says_the_cancel_came_too_late() -> None:
    plan = plan_report(_job(cancellation_requested_at=NOW - timedelta(seconds=5)), _completed(), NOW)

    assert plan.updates["status"] is JobStatus.COMPLETED
    assert "too late" in plan.events[0].data["cancellation"]


def test_the_workers_stop_after_a_cancel_request_charges_the_time_used_without_storage() -> None:
    report = JobCancelled(
        type="training_job.cancelled", sequence=3, step=400, epoch=0, gpu_seconds=Decimal("1200"), **IDS
    )
    plan = plan_report(_job(cancellation_requested_at=NOW), report, NOW)

    assert (plan.updates["status"], plan.updates["current_cost"]) == (JobStatus.CANCELLED, Decimal("1.20"))
    assert plan.notify is JobMoment.CANCELLED


def test_a_failure_during_initializing_ends_the_job_there_with_its_error() -> None:
    report = JobFailed(
        type="training_job.failed", sequence=2, step=0, epoch=0, gpu_seconds=Decimal("30"),
        error=JobError(code="dataset_unreadable", message="The dataset file could not be read"), **IDS,
    )  # fmt: skip
    plan = plan_report(_job(JobStatus.INITIALIZING), report, NOW)

    assert plan.updates["status"] is JobStatus.FAILED
    assert (plan.updates["error_code"], plan.updates["error_message"]) == (
        "dataset_unreadable",
        "The dataset file could not be read",
    )
    assert _types(plan.events) == ["error", "status_changed", "cost"]
    assert plan.events[1].data == {"from": JobStatus.INITIALIZING, "to": JobStatus.FAILED}
    assert plan.notify is JobMoment.FAILED


@pytest.mark.parametrize(
    "status", [JobStatus.QUEUED, JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED]
)
@pytest.mark.parametrize("report", [_progress(step=10), _completed()], ids=["progress", "completed"])
def test_a_report_the_jobs_status_does_not_allow_is_refused(status: JobStatus, report: Report) -> None:
    with pytest.raises(IllegalTransition):
        plan_report(_job(status), report, NOW)


def test_a_second_start_for_a_running_job_is_refused() -> None:
    with pytest.raises(IllegalTransition, match="a running job cannot become running"):
        plan_report(_job(), JobStarted(type="training_job.started", sequence=2, worker_id="w", **IDS), NOW)


AT_STEP_60 = {"current_step": 60, "gpu_seconds": Decimal("500")}
BEYOND_POSSIBLE = "gpu_seconds beyond what the job's GPUs could have used"


@pytest.mark.parametrize(
    ("job", "report", "reason"),
    [
        (AT_STEP_60, _progress(step=5, gpu_seconds="600"), "step went backwards"),
        (AT_STEP_60, _progress(step=70, gpu_seconds="200"), "gpu_seconds went backwards"),
        ({"current_epoch": 1}, _progress(step=10, epoch=0), "epoch went backwards"),
        ({}, _progress(step=1001), "step beyond the job's total_steps"),
        ({}, _progress(step=10, epoch=3), "epoch beyond the job's total_epochs"),
        (
            {},
            _completed(gpu_seconds="99999999999.999"),
            "gpu_seconds beyond what the job's GPUs could have used",
        ),
    ],
    ids=["step-back", "gpu-back", "epoch-back", "step-past-total", "epoch-past-total", "gpu-past-possible"],
)
def test_figures_that_cannot_be_true_are_refused_and_change_nothing(
    job: dict[str, Any], report: Any, reason: str
) -> None:
    with pytest.raises(ReportRefused) as refused:
        plan_report(_job(**job), report, NOW)

    assert refused.value.reason == reason
    assert refused.value.figures["claimed"]["step"] == report.step


def test_the_gpu_time_possible_is_the_time_since_the_assignment_with_its_tolerance_times_the_gpus() -> None:
    # 10 minutes on 8 GPUs: (600 s x 1.02 + 120 s) x 8 = 5856 GPU-seconds, and not a millisecond more.
    assert possible_gpu_seconds(NOW - timedelta(minutes=10), NOW, 8) == Decimal("5856.000")
    assert plan_report(_job(), _progress(step=10, gpu_seconds="5856"), NOW).updates["gpu_seconds"] == 5856
    with pytest.raises(ReportRefused):
        plan_report(_job(), _progress(step=10, gpu_seconds="5856.001"), NOW)
    # A worker whose time runs 90 times faster than the clock (the local stack's simulated one).
    fast = _job(time_scale=Decimal(90), started_at=NOW - timedelta(seconds=20), gpu_count=1)
    assert plan_report(fast, _progress(step=10, gpu_seconds="1800"), NOW).updates["gpu_seconds"] == 1800


def test_a_progress_report_that_repeats_the_jobs_figures_adds_nothing() -> None:
    metrics = TrainingMetrics(train_loss=1.25)
    job = _job(current_step=300, gpu_seconds=Decimal("900"), current_metrics={"train_loss": 1.25})

    plan = plan_report(job, _progress(step=300, gpu_seconds="900", metrics=metrics), NOW)

    assert plan.updates == {"last_report_sequence": 2}
    assert (plan.events, plan.metric_point, plan.checkpoint) == ([], None, None)
    # Another loss at the same step is news: the job's figures change.
    lower = TrainingMetrics(train_loss=1.2)
    other = plan_report(job, _progress(step=300, gpu_seconds="900", metrics=lower), NOW)
    assert other.updates["current_metrics"] == {"train_loss": 1.2}


def test_the_chart_keeps_a_point_per_stride_of_steps_and_always_the_last() -> None:
    loss = TrainingMetrics(train_loss=1.0)
    # 10M steps: a point every 1,000 steps at most (10,000 points in all), however often reports come.
    long_run = _job(total_steps=10_000_000, last_chart_step=5_000, current_step=5_000)

    too_soon = plan_report(long_run, _progress(step=5_999, metrics=loss), NOW)
    due = plan_report(long_run, _progress(step=6_000, metrics=loss), NOW)

    assert (too_soon.metric_point, "last_chart_step" in too_soon.updates) == (None, False)
    assert too_soon.updates["current_metrics"] == {"train_loss": 1.0}  # the job still shows it
    assert (due.metric_point or {})["step"] == 6_000
    assert due.updates["last_chart_step"] == 6_000
    # 1,000 steps: every new step is a point; the first report's always is.
    assert plan_report(_job(last_chart_step=10), _progress(step=11, metrics=loss), NOW).metric_point
    assert plan_report(_job(), _progress(step=1, metrics=loss), NOW).metric_point


def test_the_final_reports_point_is_kept_whatever_the_stride() -> None:
    long_run = _job(total_steps=10_000_000, last_chart_step=9_999_999, current_step=9_999_999)
    done = JobCompleted(
        type="training_job.completed", sequence=3, step=10_000_000, epoch=2, gpu_seconds=Decimal("3600"),
        artifact_key="users/u/jobs/j/adapter/a.safetensors", metrics=TrainingMetrics(train_loss=0.5), **IDS,
    )  # fmt: skip

    assert (plan_report(long_run, done, NOW).metric_point or {})["step"] == 10_000_000


# ---- budgets: a job is never charged past its cap -------------------------------------------------


def test_a_report_whose_cost_reaches_the_jobs_budget_stops_it_charging_the_budget_only() -> None:
    plan = plan_report(_job(max_cost=Decimal("0.50")), _progress(step=500, gpu_seconds="600"), NOW)  # $0.60

    assert plan.stop
    assert plan.updates["current_cost"] == Decimal("0.50")
    assert (plan.updates["cancellation_requested_at"], plan.updates["stop_reason"]) == (NOW, "budget_reached")
    assert _types(plan.events) == ["progress", "cancellation_requested"]  # the cost, then the stop
    assert plan.events[-1].data == {
        "reason": "budget_reached",
        "cap": Decimal("0.50"),
        "cost": Decimal("0.50"),
    }


def test_a_report_below_the_budget_neither_stops_nor_caps() -> None:
    plan = plan_report(_job(max_cost=Decimal("0.61")), _progress(step=500, gpu_seconds="600"), NOW)

    assert not plan.stop
    assert plan.updates["current_cost"] == Decimal("0.60")
    assert "stop_reason" not in plan.updates


def test_what_the_months_limit_leaves_a_job_stops_it_when_lower_than_its_budget() -> None:
    job = _job(max_cost=Decimal("5.00"), month_room=Decimal("0.40"))

    plan = plan_report(job, _progress(step=500, gpu_seconds="600"), NOW)

    assert plan.stop
    assert (plan.updates["current_cost"], plan.updates["stop_reason"]) == (
        Decimal("0.40"),
        "monthly_limit_reached",
    )


def test_a_month_already_past_its_limit_charges_a_running_job_nothing_more_and_stops_it() -> None:
    job = _job(current_step=50, gpu_seconds=Decimal("30"), current_cost=Decimal("0.03"))

    plan = plan_report(replace(job, month_room=Decimal("-2.00")), _progress(step=100, gpu_seconds="60"), NOW)

    assert plan.stop
    assert plan.updates["current_cost"] == Decimal("0.03")  # what it was charged before: kept, no more


def test_a_limit_lowered_under_a_running_jobs_charge_never_lowers_it() -> None:
    job = _job(current_step=400, gpu_seconds=Decimal("500"), current_cost=Decimal("0.50"))

    plan = plan_report(replace(job, month_room=Decimal("0.20")), _progress(step=500, gpu_seconds="600"), NOW)

    assert plan.stop
    assert (plan.updates["current_cost"], plan.updates["stop_reason"]) == (
        Decimal("0.50"),
        "monthly_limit_reached",
    )


def test_a_job_already_stopping_is_not_asked_to_stop_again() -> None:
    job = _job(
        max_cost=Decimal("0.50"), current_cost=Decimal("0.50"), current_step=500, gpu_seconds=Decimal("600"),
        cancellation_requested_at=NOW, stop_reason="budget_reached",
    )  # fmt: skip

    plan = plan_report(job, _progress(step=600, gpu_seconds="700"), NOW)

    assert not plan.stop
    assert plan.updates["current_cost"] == Decimal("0.50")
    assert "cancellation_requested" not in _types(plan.events)


def test_the_workers_stop_at_the_budget_charges_the_budget_and_says_what_past_it_was_not_charged() -> None:
    report = JobCancelled(
        type="training_job.cancelled", sequence=3, step=520, epoch=0, gpu_seconds=Decimal("624"), **IDS
    )
    job = _job(
        max_cost=Decimal("0.50"), current_cost=Decimal("0.50"), current_step=500, gpu_seconds=Decimal("600"),
        cancellation_requested_at=NOW, stop_reason="budget_reached",
    )  # fmt: skip

    plan = plan_report(job, report, NOW)

    assert (plan.updates["status"], plan.updates["current_cost"]) == (JobStatus.CANCELLED, Decimal("0.50"))
    assert plan.events[0].data["stop_reason"] == "budget_reached"
    assert plan.events[1].data["cap"] == Decimal("0.50")
    assert plan.events[1].data["beyond_cap_not_charged"] == Decimal("0.12")  # $0.62 used
    assert plan.events[1].data["not_charged"] == Decimal("4.50")


def test_a_completion_past_the_budget_is_charged_the_budget() -> None:
    plan = plan_report(_job(max_cost=Decimal("3.00")), _completed(gpu_seconds="3600"), NOW)  # $4.10 used

    assert (plan.updates["status"], plan.updates["current_cost"]) == (JobStatus.COMPLETED, Decimal("3.00"))
    assert plan.events[-1].data["beyond_cap_not_charged"] == Decimal("1.10")


def test_a_report_saying_again_what_the_job_holds_still_stops_it_once_a_lower_limit_leaves_no_room() -> None:
    job = _job(current_step=500, gpu_seconds=Decimal("600"), current_cost=Decimal("0.60"))

    plan = plan_report(replace(job, month_room=Decimal("0.50")), _progress(step=500, gpu_seconds="600"), NOW)

    assert plan.stop
    assert (plan.updates["current_cost"], plan.updates["stop_reason"]) == (
        Decimal("0.60"),
        "monthly_limit_reached",
    )


def test_once_a_budget_stopped_a_job_a_raised_limit_does_not_charge_the_time_until_its_worker_stopped() -> (
    None
):
    job = _job(
        current_step=500, gpu_seconds=Decimal("600"), current_cost=Decimal("0.40"),
        cancellation_requested_at=NOW, stop_reason="monthly_limit_reached", month_room=Decimal("50.00"),
    )  # fmt: skip
    report = JobCancelled(
        type="training_job.cancelled", sequence=3, step=520, epoch=0, gpu_seconds=Decimal("700"), **IDS
    )

    plan = plan_report(job, report, NOW)

    assert (plan.updates["status"], plan.updates["current_cost"]) == (JobStatus.CANCELLED, Decimal("0.40"))
    assert plan.events[-1].data["beyond_cap_not_charged"] == Decimal("0.30")  # $0.70 used


def test_a_completion_that_beats_a_budget_stop_is_not_said_to_be_stopped() -> None:
    job = _job(max_cost=Decimal("9.00"), cancellation_requested_at=NOW, stop_reason="budget_reached")

    plan = plan_report(job, _completed(gpu_seconds="3600"), NOW)

    assert plan.updates["status"] is JobStatus.COMPLETED
    assert plan.updates["stop_reason"] is None
    assert "stop_reason" not in plan.events[0].data

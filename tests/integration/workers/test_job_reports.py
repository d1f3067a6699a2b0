"""Workers' reports applied to real jobs, as the report consumer's role (pipeline_worker) applies them:
once each, in sequence, refused when the job's status does not allow them, with events, the chart's
points and notifications written in the same transaction."""

import json
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg.rows import DictRow

from pipeline.artifacts.locations import job_prefix
from pipeline.db.database import Database
from pipeline.workers import reports as job_reports
from pipeline.workers.reports import Outcome
from tests.factories import RecordedStops, insert_dataset, insert_job


def _job(db: psycopg.Connection[DictRow], status: str = "initializing") -> tuple[UUID, UUID]:
    user_id = uuid4()
    job_id = insert_job(db, user_id=user_id, dataset_id=insert_dataset(db, user_id=user_id), status=status)
    return user_id, job_id  # 125 steps, 1 epoch, one H100 at $4.20 per GPU-hour, estimated $1.23


def _report(kind: str, job: tuple[UUID, UUID], sequence: int, **fields: Any) -> str:
    user_id, job_id = job
    body = {
        "type": f"training_job.{kind}",
        "version": 1,
        "job_id": str(job_id),
        "user_id": str(user_id),
        "sequence": sequence,
        "sent_at": "2026-12-02T12:00:00Z",
    }
    return json.dumps(body | fields)


def _progress(job: tuple[UUID, UUID], sequence: int, step: int, gpu_seconds: float, **extra: Any) -> str:
    return _report(
        "progress", job, sequence, step=step, epoch=0, gpu_seconds=gpu_seconds,
        metrics={"train_loss": 2.0 - step / 100}, **extra,
    )  # fmt: skip


def _row(db: psycopg.Connection[DictRow], job_id: UUID) -> dict[str, Any]:
    row = db.execute(
        "select status, current_step, progress, gpu_seconds, current_cost, last_report_sequence,"
        " error_code, error_message, artifact_key, completed_at is not null as completed"
        " from lora_training_jobs where id = %s",
        (job_id,),
    ).fetchone()
    assert row is not None
    return dict(row)


def _events(db: psycopg.Connection[DictRow], job_id: UUID) -> list[tuple[str, dict[str, Any]]]:
    rows = db.execute("select type, data from job_events where job_id = %s order by id", (job_id,)).fetchall()
    return [(row["type"], row["data"]) for row in rows]


def test_a_job_runs_to_completion_through_its_reports(
    db: psycopg.Connection[DictRow], worker_db: Database
) -> None:
    job = _job(db)
    reports = [
        _report("started", job, 1, worker_id="gpu-1"),
        _progress(job, 2, step=50, gpu_seconds=600),
        _report(
            "checkpoint_saved", job, 3, step=100, epoch=0, gpu_seconds=1200,
            object_key=f"{job_prefix(*job)}checkpoints/step-100/a.safetensors",
        ),
        _report(
            "completed", job, 4, step=125, epoch=1, gpu_seconds=1500,
            artifact_key=f"{job_prefix(*job)}adapter/a.safetensors",
        ),
    ]  # fmt: skip

    assert [job_reports.apply_report(worker_db, body, RecordedStops()) for body in reports] == [
        Outcome.APPLIED
    ] * 4

    assert _row(db, job[1]) == {
        "status": "completed",
        "current_step": 125,
        "progress": Decimal("100.00"),
        "gpu_seconds": Decimal("1500.000"),
        "current_cost": Decimal("2.25"),  # 1500 GPU-seconds at $4.20 = 1.75, + 0.50 storage
        "last_report_sequence": 4,
        "error_code": None,
        "error_message": None,
        "artifact_key": f"{job_prefix(*job)}adapter/a.safetensors",
        "completed": True,
    }
    events = _events(db, job[1])
    assert [kind for kind, _ in events] == [
        "status_changed",
        "progress",
        "checkpoint",
        "status_changed",
        "cost",
    ]
    assert (events[0][1]["from"], events[0][1]["to"]) == ("initializing", "running")
    assert (events[3][1]["from"], events[3][1]["to"]) == ("running", "completed")
    assert events[4][1] == {
        "step": 125, "epoch": 1, "progress": 100, "cost": 2.25, "final": True,
        "estimated_total_cost": 1.23, "not_charged": 0,
    }  # fmt: skip
    points = db.execute(
        "select step, train_loss from job_metric_points where job_id = %s", (job[1],)
    ).fetchall()
    assert points == [{"step": 50, "train_loss": 1.5}]
    (notice,) = db.execute(
        "select type, priority, action_url from lora_notifications where user_id = %s", (job[0],)
    ).fetchall()
    assert notice == {"type": "job_completed", "priority": "medium", "action_url": f"/training/jobs/{job[1]}"}


def test_a_repeated_or_older_report_changes_nothing(
    db: psycopg.Connection[DictRow], worker_db: Database
) -> None:
    job = _job(db)
    assert (
        job_reports.apply_report(worker_db, _report("started", job, 1, worker_id="w"), RecordedStops())
        is Outcome.APPLIED
    )
    assert (
        job_reports.apply_report(worker_db, _progress(job, 3, step=60, gpu_seconds=700), RecordedStops())
        is Outcome.APPLIED
    )
    before = (_row(db, job[1]), _events(db, job[1]))

    assert (
        job_reports.apply_report(worker_db, _progress(job, 3, step=60, gpu_seconds=700), RecordedStops())
        is Outcome.DUPLICATE
    )
    assert (
        job_reports.apply_report(worker_db, _progress(job, 2, step=30, gpu_seconds=350), RecordedStops())
        is Outcome.DUPLICATE
    )

    assert (_row(db, job[1]), _events(db, job[1])) == before
    assert before[0]["current_step"] == 60  # the gap (no report 2 before 3) did not hold the job back


def test_a_report_the_jobs_status_does_not_allow_is_refused_and_changes_nothing(
    db: psycopg.Connection[DictRow], worker_db: Database
) -> None:
    job = _job(db, status="cancelled")
    stops = RecordedStops()

    assert (
        job_reports.apply_report(worker_db, _progress(job, 1, step=10, gpu_seconds=60), stops)
        is Outcome.REFUSED
    )

    assert _row(db, job[1])["last_report_sequence"] == 0
    assert _events(db, job[1]) == []
    # The job is over: its worker (a late one, or a stray) is told to stop it, naming its job and user.
    assert [(stop["message_type"], stop["job_id"], stop["user_id"]) for stop in stops.sent] == [
        ("training_job.cancel_requested", str(job[1]), str(job[0]))
    ]


def test_a_second_start_of_a_running_job_is_refused_without_stopping_the_job(
    db: psycopg.Connection[DictRow], worker_db: Database
) -> None:
    # A duplicate assignment taken by a second worker: a stop would also stop the first one.
    job = _job(db, status="running")
    stops = RecordedStops()

    assert (
        job_reports.apply_report(worker_db, _report("started", job, 1, worker_id="w2"), stops)
        is Outcome.REFUSED
    )
    assert stops.sent == []


def test_a_failure_records_its_error_and_the_gpu_time_used(
    db: psycopg.Connection[DictRow], worker_db: Database
) -> None:
    job = _job(db, status="running")
    error = {"code": "out_of_memory", "message": "The GPU ran out of memory at batch size 64"}

    body = _report("failed", job, 1, step=20, epoch=0, gpu_seconds=3600, error=error)
    assert job_reports.apply_report(worker_db, body, RecordedStops()) is Outcome.APPLIED

    row = _row(db, job[1])
    assert (row["status"], row["error_code"], row["error_message"]) == ("failed", *error.values())
    assert row["current_cost"] == Decimal("4.20")  # an hour of H100, no storage
    assert [kind for kind, _ in _events(db, job[1])] == ["error", "status_changed", "cost"]


def test_a_report_naming_another_user_finds_no_job(
    db: psycopg.Connection[DictRow], worker_db: Database
) -> None:
    _, job_id = _job(db)
    stranger = uuid4()
    stops = RecordedStops()

    assert job_reports.apply_report(
        worker_db, _report("started", (stranger, job_id), 1, worker_id="w"), stops
    ) is (Outcome.JOB_NOT_FOUND)
    assert _row(db, job_id)["status"] == "initializing"
    # Told to stop the job it named, for the user it named: the real job's worker (another user's)
    # ignores a stop that is not for its own job and user.
    assert [(stop["job_id"], stop["user_id"]) for stop in stops.sent] == [(str(job_id), str(stranger))]


@pytest.mark.parametrize(
    "change",
    [
        {"version": 2},
        {"type": "training_job.paused"},
        {"sequence": 0},
        {"gpu_seconds": -1},
        {"surprise": True},  # the contract is closed: a typo is not silently ignored
        {"version": None},
        {"gpu_seconds": 1e25},  # beyond Decimal's precision at the millisecond: once a crash
        {"gpu_seconds": 1e11},  # the contract's old maximum, which the column cannot hold
        {"metrics": {"train_loss": 1e200}},  # beyond a float32: not a loss
    ],
    ids=[
        "unknown-version", "unknown-type", "sequence-zero", "negative-gpu-time", "unknown-field",
        "no-version", "gpu-time-1e25", "gpu-time-1e11", "loss-1e200",
    ],
)  # fmt: skip
def test_an_invalid_report_is_acknowledged_and_changes_nothing(
    db: psycopg.Connection[DictRow], worker_db: Database, change: dict[str, Any]
) -> None:
    job = _job(db, status="running")
    body = json.loads(_progress(job, 1, step=10, gpu_seconds=60)) | change

    assert job_reports.apply_report(worker_db, json.dumps(body), RecordedStops()) is Outcome.UNPROCESSABLE
    assert _row(db, job[1])["last_report_sequence"] == 0


def test_the_api_shows_the_running_jobs_figures_and_the_failed_jobs_error(
    db: psycopg.Connection[DictRow], worker_db: Database
) -> None:
    from functions.get_job import app as get_job_app
    from tests.api_client import build_event, invoke

    job = _job(db)
    job_reports.apply_report(worker_db, _report("started", job, 1, worker_id="w"), RecordedStops())
    # 50 of 125 steps, 1100 GPU-seconds of an H100: $1.28, above the $1.23 estimate.
    job_reports.apply_report(worker_db, _progress(job, 2, step=50, gpu_seconds=1100), RecordedStops())

    def shown() -> dict[str, Any]:
        answer = invoke(get_job_app, build_event("get_job", sub=job[0], path=f"/jobs/{job[1]}"))
        assert answer.status == 200, answer.raw_body
        return answer.body["data"]  # type: ignore[no-any-return]

    running = shown()
    figures = ("status", "progress", "current_step", "current_cost", "gpu_seconds")
    assert {key: running[key] for key in figures} == {
        "status": "running", "progress": 40, "current_step": 50, "current_cost": 1.28, "gpu_seconds": 1100,
    }  # fmt: skip
    assert running["estimated_finish_at"] is not None
    assert (running["cost_over_estimate"], running["error"], running["cancellation_requested_at"]) == (
        True,
        None,
        None,
    )
    assert "error_code" not in running

    error = {"code": "out_of_memory", "message": "The GPU ran out of memory"}
    job_reports.apply_report(
        worker_db, _report("failed", job, 3, step=60, epoch=0, gpu_seconds=1300, error=error), RecordedStops()
    )
    failed = shown()
    assert (failed["status"], failed["error"], failed["error_message"]) == ("failed", error, error["message"])
    assert failed["estimated_finish_at"] is None


def _without(body: str, key: str) -> str:
    return json.dumps({name: value for name, value in json.loads(body).items() if name != key})


def test_a_report_without_a_version_is_refused() -> None:
    # Required by the contract: a worker that leaves it out is told (counted, logged), not guessed at.
    assert (
        job_reports.parse_report(
            _without(_report("started", (uuid4(), uuid4()), 1, worker_id="w"), "version")
        )
        is None
    )


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        ("started", {"worker_id": "gpu\u00007"}),
        (
            "failed",
            {"step": 1, "epoch": 0, "gpu_seconds": 1, "error": {"code": "oom", "message": "out\u0000"}},
        ),
        ("failed", {"step": 1, "epoch": 0, "gpu_seconds": 1, "error": {"code": "oom", "message": "\ud800"}}),
    ],
    ids=["nul-worker-id", "nul-error-message", "lone-surrogate"],
)
def test_text_the_database_cannot_hold_is_refused_and_the_next_report_applies(
    db: psycopg.Connection[DictRow], worker_db: Database, kind: str, fields: dict[str, Any]
) -> None:
    job = _job(db, status="running")
    poison = _report(kind, job, 1, **fields)  # JSON escapes: \u0000, \ud800

    assert job_reports.apply_report(worker_db, poison, RecordedStops()) is Outcome.UNPROCESSABLE
    assert job_reports.apply_report(
        worker_db, _progress(job, 2, step=10, gpu_seconds=60), RecordedStops()
    ) is (Outcome.APPLIED)
    assert _row(db, job[1])["current_step"] == 10


@pytest.mark.parametrize(
    ("report", "reason"),
    [
        ({"step": 5, "gpu_seconds": 600}, "step went backwards"),
        ({"step": 70, "gpu_seconds": 200}, "gpu_seconds went backwards"),
        ({"step": 10_000_060, "gpu_seconds": 600}, "step beyond"),
        ({"step": 70, "epoch": 2, "gpu_seconds": 600}, "epoch beyond"),
        ({"step": 70, "gpu_seconds": 99_999_999_999.999}, "gpu_seconds beyond"),
    ],
    ids=["step-back", "gpu-back", "step-past-total", "epoch-past-total", "gpu-past-possible"],
)
def test_figures_that_cannot_be_true_change_nothing_and_are_counted(
    db: psycopg.Connection[DictRow],
    worker_db: Database,
    report: dict[str, Any],
    reason: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    job = _job(db, status="running")
    applied = _progress(job, 1, step=60, gpu_seconds=500)
    assert job_reports.apply_report(worker_db, applied, RecordedStops()) is Outcome.APPLIED
    before = (_row(db, job[1]), _events(db, job[1]))
    claimed = _report("progress", job, 2, **({"epoch": 0} | report))

    stops = RecordedStops()
    assert job_reports.apply_report(worker_db, claimed, stops) is Outcome.IMPLAUSIBLE

    assert (_row(db, job[1]), _events(db, job[1])) == before  # the charge neither falls nor jumps
    assert stops.sent == []  # the job goes on: a glitch is refused, not punished
    [logged] = [r for r in caplog.records if r.getMessage().startswith("worker report with figures")]
    assert (logged.__dict__["job_id"], logged.__dict__["sequence"]) == (str(job[1]), 2)
    assert logged.__dict__["reason"].startswith(reason)


def test_a_report_that_repeats_the_jobs_figures_adds_no_event_and_no_chart_point(
    db: psycopg.Connection[DictRow], worker_db: Database
) -> None:
    job = _job(db, status="running")
    for sequence in (1, 2, 3):
        assert (
            job_reports.apply_report(
                worker_db, _progress(job, sequence, step=60, gpu_seconds=500), RecordedStops()
            )
            is Outcome.APPLIED
        )

    points = db.execute("select count(*) as n from job_metric_points where job_id = %s", (job[1],)).fetchone()
    assert points == {"n": 1}
    assert _row(db, job[1])["last_report_sequence"] == 3

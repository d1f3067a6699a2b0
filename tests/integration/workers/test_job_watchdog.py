"""The watchdog: a running job whose worker went silent is failed, charged the GPU time its last report
counted, with its events and notification, and the workers are told to stop it; a job still
reporting, or not yet running, is left alone; a worker that comes back changes nothing."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import psycopg
from psycopg.rows import DictRow

from functions.job_watchdog import app as watchdog_app
from pipeline.artifacts.locations import job_prefix
from pipeline.db.database import Database
from pipeline.jobs.states import JobStatus
from pipeline.workers import reports as job_reports
from pipeline.workers import watchdog as job_watchdog
from pipeline.workers.report_messages import JobError
from tests.api_client import FakeLambdaContext, load_event
from tests.factories import RecordedStops, insert_dataset, insert_job, insert_webhook
from tests.services import QueueReader


def _running_job(
    db: psycopg.Connection[DictRow],
    worker_db: Database,
    *,
    silent_for: timedelta,
    started_before: timedelta | None = None,
) -> tuple[UUID, UUID]:
    """A job its worker started and reported 40 of 125 steps for (960 GPU-seconds of an H100)."""
    user_id = uuid4()
    job_id = insert_job(
        db, user_id=user_id, dataset_id=insert_dataset(db, user_id=user_id), status="initializing"
    )
    heard = datetime.now(UTC) - silent_for
    started = datetime.now(UTC) - (started_before or silent_for)
    # Handed to the workers 20 minutes before its worker started it: time enough for the 960 GPU-seconds.
    assigned = started - timedelta(minutes=20)
    db.execute("update lora_training_jobs set started_at = %s where id = %s", (assigned, job_id))
    for sequence, kind, at, fields in (
        (1, "started", started, {"worker_id": "gpu-3"}),
        (2, "progress", heard, {"step": 40, "epoch": 0, "gpu_seconds": 960, "metrics": {"train_loss": 1.9}}),
    ):
        body = {
            "type": f"training_job.{kind}", "version": 1, "job_id": str(job_id), "user_id": str(user_id),
            "sequence": sequence, "sent_at": at.isoformat(),
        }  # fmt: skip
        assert (
            job_reports.apply_report(worker_db, json.dumps(body | fields), RecordedStops(), now=at)
            == "applied"
        )
    return user_id, job_id


def _run() -> dict[str, Any]:
    return watchdog_app.lambda_handler(load_event("job_watchdog"), FakeLambdaContext())  # type: ignore[no-any-return]


def _job(db: psycopg.Connection[DictRow], job_id: UUID) -> dict[str, Any]:
    row = db.execute(
        "select status, error_code, error_message, current_cost, gpu_seconds, current_step, completed_at,"
        " last_report_sequence from lora_training_jobs where id = %s",
        (job_id,),
    ).fetchone()
    assert row is not None
    return dict(row)


def test_a_job_silent_past_the_limit_is_failed_charged_what_it_reported_and_stopped(
    db: psycopg.Connection[DictRow], worker_db: Database, worker_control_queue: QueueReader
) -> None:
    user_id, job_id = _running_job(db, worker_db, silent_for=timedelta(minutes=16))

    assert _run() == {"silent": 1, "failed": 1, "unstarted": 0, "unstarted_failed": 0}

    job = _job(db, job_id)
    assert (job["status"], job["error_code"], job["current_step"]) == ("failed", "worker_lost", 40)
    assert job["error_message"].startswith(
        "The GPU worker stopped reporting: nothing was heard from it for 15 minutes"
    )
    assert (job["gpu_seconds"], job["current_cost"]) == (
        Decimal("960.000"),
        Decimal("1.12"),
    )  # 960 s at $4.20/h
    assert job["last_report_sequence"] == 3
    events = db.execute(
        "select type, data from job_events where job_id = %s order by id", (job_id,)
    ).fetchall()
    assert [e["type"] for e in events][-3:] == ["error", "status_changed", "cost"]
    assert events[-3]["data"]["code"] == "worker_lost"
    assert events[-2]["data"] == {"from": "running", "to": "failed"}
    assert (events[-1]["data"]["final"], events[-1]["data"]["cost"]) == (True, 1.12)
    notices = db.execute("select type from lora_notifications where user_id = %s", (user_id,)).fetchall()
    assert {"type": "job_failed"} in notices
    (stop,) = worker_control_queue.receive_all()
    assert json.loads(stop["Body"])["type"] == "training_job.cancel_requested"
    assert json.loads(stop["Body"])["job_id"] == str(job_id)
    sent = db.execute(
        "select sent_at is not null as sent from job_queue_outbox"
        " where job_id = %s and destination = 'worker_control'",
        (job_id,),
    ).fetchall()
    assert sent == [{"sent": True}]
    assert _run() == {"silent": 0, "failed": 0, "unstarted": 0, "unstarted_failed": 0}  # failed once


def test_a_worker_that_comes_back_after_the_watchdog_changes_nothing(
    db: psycopg.Connection[DictRow], worker_db: Database
) -> None:
    user_id, job_id = _running_job(db, worker_db, silent_for=timedelta(hours=1))
    _run()

    stops = RecordedStops()
    for sequence in (3, 4):  # its next report's number was taken by the watchdog; the one after is refused
        late = {
            "type": "training_job.completed", "version": 1, "job_id": str(job_id), "user_id": str(user_id),
            "sequence": sequence, "sent_at": "2026-12-03T12:00:00Z", "step": 125, "epoch": 1,
            "gpu_seconds": 3000, "artifact_key": f"{job_prefix(user_id, job_id)}adapter/a.safetensors",
        }  # fmt: skip
        assert job_reports.apply_report(worker_db, json.dumps(late), stops) in ("duplicate", "refused")

    assert (_job(db, job_id)["status"], _job(db, job_id)["current_cost"]) == ("failed", Decimal("1.12"))
    # The refused one is answered with a stop for its job (the duplicate needs none: it changed nothing).
    assert [(stop["type"], stop["job_id"], stop["user_id"]) for stop in stops.sent] == [
        ("training_job.cancel_requested", str(job_id), str(user_id))
    ]


def test_jobs_heard_from_recently_or_not_running_are_left_alone(
    db: psycopg.Connection[DictRow], worker_db: Database
) -> None:
    # Started an hour ago, last heard from 5 minutes ago: silence counts from the last report.
    _, reporting = _running_job(
        db, worker_db, silent_for=timedelta(minutes=5), started_before=timedelta(hours=1)
    )
    user_id = uuid4()
    waiting = insert_job(
        db, user_id=user_id, dataset_id=insert_dataset(db, user_id=user_id), status="initializing"
    )
    # Handed to the workers 29 minutes ago: a worker has 30 to start it.
    db.execute(
        "update lora_training_jobs set started_at = now() - interval '29 minutes' where id = %s", (waiting,)
    )

    assert _run() == {"silent": 0, "failed": 0, "unstarted": 0, "unstarted_failed": 0}

    assert _job(db, reporting)["status"] == "running"
    assert _job(db, waiting)["status"] == "initializing"


def test_a_running_job_never_heard_from_since_its_start_is_silent_from_its_start(
    db: psycopg.Connection[DictRow], worker_db: Database
) -> None:
    user_id = uuid4()
    job_id = insert_job(db, user_id=user_id, dataset_id=insert_dataset(db, user_id=user_id), status="running")
    db.execute(
        "update lora_training_jobs set started_at = now() - interval '20 minutes' where id = %s", (job_id,)
    )

    run = job_watchdog.fail_silent_jobs(worker_db, watchdog_app.workers, now=datetime.now(UTC), silence_s=900)

    assert (run.found, run.failed) == (1, 1)
    job = _job(db, job_id)
    assert (job["status"], job["current_cost"], job["last_report_sequence"]) == ("failed", Decimal("0.00"), 1)


def test_a_report_arriving_between_the_search_and_the_lock_wins(
    db: psycopg.Connection[DictRow], worker_db: Database
) -> None:
    _, job_id = _running_job(db, worker_db, silent_for=timedelta(minutes=30))
    now = datetime.now(UTC)
    # The search ran with a cutoff before the report that then arrived: the re-check under the lock sees it.
    lost = JobError(code="worker_lost", message="silent")
    user_id = _job_user(db, job_id)
    assert not job_watchdog._fail(
        worker_db,
        watchdog_app.workers,
        job_id,
        user_id,
        JobStatus.RUNNING,
        now - timedelta(hours=1),
        now,
        lost,
    )
    assert _job(db, job_id)["status"] == "running"


def _job_user(db: psycopg.Connection[DictRow], job_id: UUID) -> UUID:
    row = db.execute("select user_id from lora_training_jobs where id = %s", (job_id,)).fetchone()
    assert row is not None
    return UUID(str(row["user_id"]))


def test_a_job_no_worker_started_in_time_is_failed_charging_nothing_and_stopped(
    db: psycopg.Connection[DictRow], worker_control_queue: QueueReader
) -> None:
    user_id = uuid4()
    job_id = insert_job(
        db, user_id=user_id, dataset_id=insert_dataset(db, user_id=user_id), status="initializing"
    )
    db.execute(
        "update lora_training_jobs set started_at = now() - interval '31 minutes' where id = %s", (job_id,)
    )
    webhook = insert_webhook(db, user_id=user_id)

    assert _run() == {"silent": 0, "failed": 0, "unstarted": 1, "unstarted_failed": 1}

    job = _job(db, job_id)
    assert (job["status"], job["error_code"], job["current_cost"]) == (
        "failed",
        "worker_never_started",
        Decimal("0.00"),
    )
    assert job["error_message"] == (
        "No GPU worker started the job within 30 minutes of it being handed to the workers, so it was"
        " stopped. You are not charged: no GPU time was used."
    )
    events = db.execute(
        "select type, data from job_events where job_id = %s order by id", (job_id,)
    ).fetchall()
    assert [e["type"] for e in events] == ["error", "status_changed", "cost"]
    assert events[1]["data"] == {"from": "initializing", "to": "failed"}
    assert (events[2]["data"]["final"], events[2]["data"]["cost"]) == (True, 0)
    notices = db.execute("select type from lora_notifications where user_id = %s", (user_id,)).fetchall()
    assert notices == [{"type": "job_failed"}]
    deliveries = db.execute(
        "select event_type from webhook_deliveries where endpoint_id = %s order by seq", (webhook,)
    ).fetchall()
    assert [row["event_type"] for row in deliveries] == ["job.status_changed", "job.failed"]
    (stop,) = worker_control_queue.receive_all()
    assert json.loads(stop["Body"])["job_id"] == str(job_id)
    assert _run() == {"silent": 0, "failed": 0, "unstarted": 0, "unstarted_failed": 0}  # failed once

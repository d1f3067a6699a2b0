"""POST /jobs/{job_id}/cancel in every state a job can be in, and the race with the worker's end."""

import json
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg.rows import DictRow

from functions.cancel_job import app as cancel_job_app
from pipeline.artifacts.locations import job_prefix
from pipeline.db.database import Database
from pipeline.workers import reports as job_reports
from tests.api_client import ApiResponse, build_event, invoke
from tests.factories import RecordedStops, insert_dataset, insert_job
from tests.services import QueueReader


def _job(db: psycopg.Connection[DictRow], status: str) -> tuple[UUID, UUID]:
    user_id = uuid4()
    return user_id, insert_job(
        db, user_id=user_id, dataset_id=insert_dataset(db, user_id=user_id), status=status
    )


def _cancel(job: tuple[UUID, UUID]) -> ApiResponse:
    user_id, job_id = job
    return invoke(cancel_job_app, build_event("cancel_job", sub=user_id, path=f"/jobs/{job_id}/cancel"))


def _events(db: psycopg.Connection[DictRow], job_id: UUID) -> list[tuple[str, dict[str, Any]]]:
    rows = db.execute("select type, data from job_events where job_id = %s order by id", (job_id,)).fetchall()
    return [(row["type"], row["data"]) for row in rows]


@pytest.mark.parametrize("status", ["queued", "initializing"])
def test_a_job_that_has_not_run_is_cancelled_at_once_and_charged_nothing(
    db: psycopg.Connection[DictRow], status: str
) -> None:
    job = _job(db, status)

    answer = _cancel(job)

    assert answer.status == 200, answer.raw_body
    data = answer.body["data"]
    assert (data["cancellation"], data["charged"], data["not_charged"]) == ("cancelled", 0, 1.23)
    assert (data["job"]["status"], data["job"]["current_cost"]) == ("cancelled", 0)
    assert data["job"]["completed_at"] is not None
    assert [kind for kind, _ in _events(db, job[1])] == ["status_changed", "cost"]
    assert _events(db, job[1])[0][1] == {"from": status, "to": "cancelled"}
    (notice,) = db.execute("select type from lora_notifications where user_id = %s", (job[0],)).fetchall()
    assert notice == {"type": "job_cancelled"}


def test_a_running_job_is_asked_to_stop_and_stays_running_until_its_worker_does(
    db: psycopg.Connection[DictRow],
) -> None:
    job = _job(db, "running")

    first = _cancel(job)
    again = _cancel(job)

    assert first.status == again.status == 200
    assert first.body["data"]["cancellation"] == "requested"
    assert first.body["data"]["job"]["status"] == "running"
    requested = first.body["data"]["job"]["cancellation_requested_at"]
    assert requested is not None
    assert again.body["data"]["job"]["cancellation_requested_at"] == requested  # the same request
    assert [kind for kind, _ in _events(db, job[1])] == ["cancellation_requested"]


def test_a_repeated_cancel_of_a_cancelled_job_answers_the_same(db: psycopg.Connection[DictRow]) -> None:
    job = _job(db, "queued")
    first = _cancel(job)

    again = _cancel(job)

    assert again.status == 200
    assert again.body["data"] == first.body["data"]
    assert len(_events(db, job[1])) == 2  # nothing more written


@pytest.mark.parametrize("status", ["completed", "failed"])
def test_a_finished_job_cannot_be_cancelled(db: psycopg.Connection[DictRow], status: str) -> None:
    answer = _cancel(_job(db, status))

    assert answer.status == 409
    assert answer.body == {
        "error": "Job already finished",
        "details": f"The job is {status}: there is nothing to cancel",
    }


def test_another_users_job_or_no_job_is_not_found(db: psycopg.Connection[DictRow]) -> None:
    _, job_id = _job(db, "queued")
    for path in (f"/jobs/{job_id}/cancel", f"/jobs/{uuid4()}/cancel", "/jobs/not-a-uuid/cancel"):
        answer = invoke(cancel_job_app, build_event("cancel_job", sub=uuid4(), path=path))
        assert (answer.status, answer.body) == (404, {"error": "Training job not found"}), path
    assert db.execute("select status from lora_training_jobs").fetchone() == {"status": "queued"}


def _report(job: tuple[UUID, UUID], kind: str, **fields: Any) -> str:
    return json.dumps(
        {
            "type": f"training_job.{kind}", "version": 1, "job_id": str(job[1]), "user_id": str(job[0]),
            "sequence": 1, "sent_at": "2026-12-02T12:00:00Z", "step": 40, "epoch": 0, "gpu_seconds": 600,
        }
        | fields
    )  # fmt: skip


def test_the_worker_stops_after_the_request_and_the_job_is_charged_the_time_used(
    db: psycopg.Connection[DictRow], worker_db: Database
) -> None:
    job = _job(db, "running")
    _cancel(job)

    assert (
        job_reports.apply_report(worker_db, _report(job, "cancelled"), RecordedStops())
        is job_reports.Outcome.APPLIED
    )

    row = db.execute(
        "select status, current_cost from lora_training_jobs where id = %s", (job[1],)
    ).fetchone()
    assert row == {"status": "cancelled", "current_cost": Decimal("0.70")}  # 600 s of an H100 at $4.20/h
    assert _cancel(job).body["data"]["charged"] == 0.7


def test_a_completion_that_reaches_us_before_the_worker_saw_the_cancel_wins(
    db: psycopg.Connection[DictRow], worker_db: Database
) -> None:
    job = _job(db, "running")
    _cancel(job)

    body = _report(
        job, "completed", step=125, epoch=1, artifact_key=f"{job_prefix(*job)}adapter/a.safetensors"
    )
    assert job_reports.apply_report(worker_db, body, RecordedStops()) is job_reports.Outcome.APPLIED

    assert db.execute("select status from lora_training_jobs where id = %s", (job[1],)).fetchone() == {
        "status": "completed"
    }
    changed = [data for kind, data in _events(db, job[1]) if kind == "status_changed"]
    assert "too late" in changed[-1]["cancellation"]
    assert _cancel(job).status == 409


def test_cancelling_a_running_job_tells_the_workers_once(
    db: psycopg.Connection[DictRow], worker_control_queue: QueueReader
) -> None:
    job = _job(db, "running")

    _cancel(job)
    _cancel(job)  # a repeated cancel sends nothing more

    (message,) = worker_control_queue.receive_all()
    control = json.loads(message["Body"])
    assert {key: control[key] for key in control if key != "requested_at"} == {
        "type": "training_job.cancel_requested",
        "version": 1,
        "job_id": str(job[1]),
        "user_id": str(job[0]),
    }
    assert message["MessageAttributes"]["type"]["StringValue"] == "training_job.cancel_requested"
    row = db.execute(
        "select sent_at is not null as sent from job_queue_outbox where job_id = %s and destination = %s",
        (job[1], "worker_control"),
    ).fetchone()
    assert row == {"sent": True}


@pytest.mark.parametrize(("status", "messages"), [("queued", 0), ("initializing", 1)])
def test_a_job_cancelled_before_it_ran_tells_the_workers_only_if_one_may_have_it(
    db: psycopg.Connection[DictRow], worker_control_queue: QueueReader, status: str, messages: int
) -> None:
    job = _job(db, status)

    _cancel(job)

    assert len(worker_control_queue.receive_all()) == messages

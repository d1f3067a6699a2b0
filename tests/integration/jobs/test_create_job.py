"""POST /jobs: one transaction for job + notification + outbox row, then the queue message."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg.rows import DictRow

from functions.create_job import app as create_job_app
from pipeline.aws.sqs_publisher import QueueSettings, SqsJobPublisher
from pipeline.jobs import notifications_repository
from pipeline.outbox import repository as outbox_repository
from tests.api_client import build_event, invoke
from tests.factories import create_body, insert_dataset
from tests.services import QueueReader


def _create(user_id: UUID, body: dict[str, Any]) -> Any:
    return invoke(create_job_app, build_event("create_job", sub=user_id, body=body))


def _counts(db: psycopg.Connection[DictRow]) -> dict[str, int]:
    row = db.execute(
        "select (select count(*) from lora_training_jobs) as jobs,"
        " (select count(*) from lora_notifications) as notifications,"
        " (select count(*) from job_queue_outbox) as outbox"
    ).fetchone()
    assert row is not None
    return dict(row)


NOTHING = {"jobs": 0, "notifications": 0, "outbox": 0}


@pytest.fixture
def user_id() -> UUID:
    return uuid4()


@pytest.fixture
def dataset_id(db: psycopg.Connection[DictRow], user_id: UUID) -> UUID:
    return insert_dataset(db, user_id=user_id)


def test_created_job_is_stored_queued_with_server_figures(
    db: psycopg.Connection[DictRow], user_id: UUID, dataset_id: UUID, sqs_queue: QueueReader
) -> None:
    before = datetime.now(UTC)

    response = _create(user_id, create_body(dataset_id))

    assert response.status == 201, response.raw_body
    row = db.execute("select * from lora_training_jobs").fetchone()
    assert row is not None
    assert row["queued_at"] >= before - timedelta(seconds=1)
    assert {key: row[key] for key in row if key not in ("id", "queued_at", "created_at", "updated_at")} == {
        "user_id": user_id,
        "dataset_id": dataset_id,
        # The dataset as the job was created on it: what the job shows once the dataset is deleted.
        "dataset_name": "Customer support v1",
        "dataset_format": "jsonl",
        "dataset_total_training_pairs": 5000,
        "preset_id": "balanced",
        "base_model": "mistral-7b-v0.3",
        "status": "queued",
        "current_stage": "queued",
        "progress": Decimal("0.00"),
        "current_epoch": 0,
        "total_epochs": 3,
        "current_step": 0,
        "total_steps": 3750,
        "gpu_config": {"type": "A100-80GB", "count": 2},
        "hyperparameters": {
            "learning_rate": 0.00005,
            "batch_size": 4,
            "epochs": 3,
            "rank": 16,
            "alpha": 32.0,
            "dropout": 0.1,
        },
        "estimated_total_cost": Decimal("5.94"),
        "current_cost": Decimal("0.00"),
        "current_metrics": {},
        "pricing_version": "2025-12-25",
        "error_message": None,
        "started_at": None,
        "completed_at": None,
        # What the job's life fills in later: nothing yet.
        "gpu_seconds": Decimal("0.000"),
        "last_report_sequence": 0,
        "cancellation_requested_at": None,
        "estimated_finish_at": None,
        "error_code": None,
        "artifact_key": None,
        "last_report_at": None,
        "last_chart_step": None,
        "max_cost": None,
        "stop_reason": None,
    }
    data = response.body["data"]
    assert response.body["success"] is True
    assert data["id"] == str(row["id"])
    assert data["estimated_total_cost"] == 5.94
    assert data["progress"] == 0
    assert data["queued_at"] == row["queued_at"].isoformat().replace("+00:00", "Z")
    assert data["created_at"].endswith("Z")
    assert "dataset" not in data


def test_created_job_is_announced_by_a_notification(
    db: psycopg.Connection[DictRow], user_id: UUID, dataset_id: UUID
) -> None:
    job_id = _create(user_id, create_body(dataset_id)).body["data"]["id"]

    notification = db.execute(
        "select user_id, type, title, message, priority, action_url, metadata, read from lora_notifications"
    ).fetchall()

    assert notification == [
        {
            "user_id": user_id,
            "type": "job_queued",
            "title": "Training Job Queued",
            "message": 'Your training job for "Customer support v1" has been queued and will start shortly',
            "priority": "low",
            "action_url": f"/training/jobs/{job_id}",
            "metadata": {"job_id": job_id, "dataset_name": "Customer support v1"},
            "read": False,
        }
    ]


def test_created_job_message_is_on_the_queue_and_outbox_row_marked_sent(
    db: psycopg.Connection[DictRow], user_id: UUID, dataset_id: UUID, sqs_queue: QueueReader
) -> None:
    data = _create(user_id, create_body(dataset_id)).body["data"]

    messages = sqs_queue.receive_all()

    assert len(messages) == 1
    assert json.loads(messages[0]["Body"]) == {
        "type": "training_job.queued",
        "version": 1,
        "job_id": data["id"],
        "user_id": str(user_id),
        "dataset_id": str(dataset_id),
        "preset_id": "balanced",
        "base_model": "mistral-7b-v0.3",
        "gpu_config": {"type": "A100-80GB", "count": 2},
        "hyperparameters": {
            "batch_size": 4,
            "epochs": 3,
            "learning_rate": 0.00005,
            "rank": 16,
            "alpha": 32.0,
            "dropout": 0.1,
        },
        "total_steps": 3750,
        "estimated_total_cost": 5.94,
        "pricing_version": "2025-12-25",
        "queued_at": data["queued_at"],
    }
    assert messages[0]["MessageAttributes"] == {
        "type": {"DataType": "String", "StringValue": "training_job.queued"},
        "version": {"DataType": "Number", "StringValue": "1"},
    }
    outbox = db.execute("select job_id, body, sent_at, attempts from job_queue_outbox").fetchall()
    assert len(outbox) == 1
    assert outbox[0]["job_id"] == UUID(data["id"])
    assert outbox[0]["body"] == messages[0]["Body"]
    assert outbox[0]["sent_at"] is not None
    assert outbox[0]["attempts"] == 1


def test_the_confirmed_estimate_to_the_cent_is_accepted_and_that_figure_stored(
    db: psycopg.Connection[DictRow], user_id: UUID, dataset_id: UUID
) -> None:
    response = _create(user_id, create_body(dataset_id, estimated_cost=5.94))

    assert response.status == 201, response.raw_body
    assert response.body["data"]["estimated_total_cost"] == 5.94
    stored = db.execute("select estimated_total_cost from lora_training_jobs").fetchone()
    assert stored == {"estimated_total_cost": Decimal("5.94")}


@pytest.mark.parametrize("submitted", [5.93, 5.95, 5.92, 5.96, 5.945, 0, 25.5])
def test_stale_client_estimate_gets_409_with_the_fresh_estimate_and_writes_nothing(
    db: psycopg.Connection[DictRow], user_id: UUID, dataset_id: UUID, sqs_queue: QueueReader, submitted: float
) -> None:
    response = _create(user_id, create_body(dataset_id, estimated_cost=submitted))

    assert response.status == 409, response.raw_body
    assert response.body["error"] == "Estimate out of date"
    assert response.body["details"]["submitted_estimated_cost"] == submitted
    assert response.body["details"]["current_estimated_cost"] == 5.94
    assert response.body["data"]["estimated_cost"] == 5.94
    assert response.body["data"]["training_details"]["total_steps"] == 3750
    assert _counts(db) == NOTHING
    assert sqs_queue.receive_all() == []


@pytest.mark.parametrize(
    ("status", "training_ready", "details"),
    [
        ("processing", True, "Current: status='processing', training_ready=true"),
        ("ready", False, "Current: status='ready', training_ready=false"),
        ("failed", False, "Current: status='failed', training_ready=false"),
    ],
)
def test_dataset_not_ready_gets_400_and_writes_nothing(
    db: psycopg.Connection[DictRow], user_id: UUID, status: str, training_ready: bool, details: str
) -> None:
    dataset_id = insert_dataset(db, user_id=user_id, status=status, training_ready=training_ready)

    response = _create(user_id, create_body(dataset_id))

    assert response.status == 400
    assert response.body == {
        "error": "Dataset not ready for training",
        "details": f"Dataset must have status='ready' and training_ready=true. {details}",
    }
    assert _counts(db) == NOTHING


def test_another_users_dataset_gets_404_and_writes_nothing(
    db: psycopg.Connection[DictRow], dataset_id: UUID
) -> None:
    response = _create(uuid4(), create_body(dataset_id))

    assert response.status == 404
    assert response.body == {"error": "Dataset not found or access denied"}
    assert _counts(db) == NOTHING


@pytest.mark.parametrize("failing", ["notification", "outbox"])
def test_failure_after_the_job_insert_leaves_nothing_behind(
    db: psycopg.Connection[DictRow],
    user_id: UUID,
    dataset_id: UUID,
    sqs_queue: QueueReader,
    monkeypatch: pytest.MonkeyPatch,
    failing: str,
) -> None:
    def explode(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full: secret internal detail")

    target = notifications_repository if failing == "notification" else outbox_repository
    monkeypatch.setattr(target, "insert", explode)

    response = _create(user_id, create_body(dataset_id))

    assert response.status == 500
    assert response.body == {"error": "Internal error", "request_id": response.body["request_id"]}
    assert response.body["request_id"].startswith("test-")
    assert "secret" not in response.raw_body
    assert _counts(db) == NOTHING
    assert sqs_queue.receive_all() == []


def test_queue_failure_still_creates_the_job_and_leaves_the_message_pending(
    db: psycopg.Connection[DictRow],
    user_id: UUID,
    dataset_id: UUID,
    sqs_queue: QueueReader,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A queue URL that does not exist: SQS answers with an error, as when the queue is unreachable.
    missing_queue = QueueSettings(JOBS_QUEUE_URL=sqs_queue.queue_url + "-missing", AWS_REGION="us-east-1")
    monkeypatch.setattr(create_job_app, "publisher", SqsJobPublisher(missing_queue))

    response = _create(user_id, create_body(dataset_id))

    assert response.status == 201, response.raw_body
    assert _counts(db) == {"jobs": 1, "notifications": 1, "outbox": 1}
    pending = db.execute("select job_id, sent_at from job_queue_outbox").fetchone()
    assert pending == {"job_id": UUID(response.body["data"]["id"]), "sent_at": None}
    assert sqs_queue.receive_all() == []


def test_unreachable_queue_endpoint_still_creates_the_job(
    db: psycopg.Connection[DictRow],
    user_id: UUID,
    dataset_id: UUID,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Nothing listens on port 9 (discard) here: the connection is refused, as when SQS is down.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    unreachable = SqsJobPublisher(
        QueueSettings(JOBS_QUEUE_URL="http://127.0.0.1:9/q", AWS_REGION="us-east-1")
    )
    monkeypatch.setattr(create_job_app, "publisher", unreachable)

    response = _create(user_id, create_body(dataset_id))

    assert response.status == 201, response.raw_body
    assert db.execute("select count(*) as n from job_queue_outbox where sent_at is null").fetchone() == {
        "n": 1
    }


def test_user_id_in_the_body_is_ignored(
    db: psycopg.Connection[DictRow], user_id: UUID, dataset_id: UUID
) -> None:
    response = _create(user_id, create_body(dataset_id, user_id=str(uuid4())))

    assert response.status == 201
    assert response.body["data"]["user_id"] == str(user_id)

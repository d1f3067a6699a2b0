"""The jobs-queue consumer: each job claimed once, poison acknowledged, transient failures retried."""

import copy
import json
import os
import uuid
from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from psycopg.rows import DictRow

from functions.create_job import app as create_job_app
from functions.get_job import app as get_job_app
from functions.job_dispatcher import app as dispatcher_app
from pipeline.db.database import Database, DatabaseSettings
from pipeline.workers import reports as job_reports
from tests.api_client import FakeLambdaContext, build_event, invoke, load_event
from tests.factories import (
    EVENT_DATASET_ID,
    EVENT_JOB_ID,
    EVENT_USER_ID,
    RecordedStops,
    create_body,
    insert_dataset,
    insert_job,
)
from tests.services import QueueReader

UNREACHABLE = Database(DatabaseSettings(DATABASE_URL="postgresql://nobody@127.0.0.1:1/none"))


def _record(body: str) -> dict[str, Any]:
    record: dict[str, Any] = copy.deepcopy(load_event("job_dispatcher")["Records"][0])
    record["messageId"] = str(uuid.uuid4())
    record["body"] = body
    return record


def _dispatch(*bodies: str) -> tuple[dict[str, Any], list[str]]:
    records = [_record(body) for body in bodies]
    response: dict[str, Any] = dict(dispatcher_app.lambda_handler({"Records": records}, FakeLambdaContext()))
    return response, [record["messageId"] for record in records]


def _queued_message(
    db: psycopg.Connection[DictRow], sqs_queue: QueueReader, **overrides: Any
) -> tuple[str, dict[str, Any]]:
    """Create a job through the API and take its message off the queue, as SQS would deliver it."""
    user_id = uuid4()
    body = create_body(insert_dataset(db, user_id=user_id), **overrides)
    created = invoke(create_job_app, build_event("create_job", sub=user_id, body=body))
    assert created.status == 201
    (message,) = sqs_queue.receive_all()
    return message["Body"], created.body["data"]


def _job(db: psycopg.Connection[DictRow], job_id: str | UUID) -> dict[str, Any]:
    row = db.execute(
        "select status, current_stage, started_at from lora_training_jobs where id = %s", (job_id,)
    ).fetchone()
    assert row is not None
    return dict(row)


def _notifications(db: psycopg.Connection[DictRow], kind: str) -> list[dict[str, Any]]:
    return db.execute(
        "select title, message, action_url, metadata from lora_notifications where type = %s", (kind,)
    ).fetchall()


def test_events_file_claims_the_job_it_names(db: psycopg.Connection[DictRow]) -> None:
    insert_dataset(db, user_id=EVENT_USER_ID, dataset_id=EVENT_DATASET_ID)
    insert_job(db, user_id=EVENT_USER_ID, dataset_id=EVENT_DATASET_ID, job_id=EVENT_JOB_ID)

    response = dispatcher_app.lambda_handler(load_event("job_dispatcher"), FakeLambdaContext())

    assert response == {"batchItemFailures": []}
    assert _job(db, EVENT_JOB_ID)["status"] == "initializing"


def test_message_moves_its_job_to_initializing_and_notifies_the_user(
    db: psycopg.Connection[DictRow], sqs_queue: QueueReader
) -> None:
    body, job = _queued_message(db, sqs_queue)

    response, _ = _dispatch(body)

    assert response == {"batchItemFailures": []}
    claimed = _job(db, job["id"])
    assert (claimed["status"], claimed["current_stage"]) == ("initializing", "initializing")
    assert claimed["started_at"] is not None
    events = db.execute("select type, data from job_events where job_id = %s", (job["id"],)).fetchall()
    assert events == [{"type": "status_changed", "data": {"from": "queued", "to": "initializing"}}]
    assert _notifications(db, "job_initializing") == [
        {
            "title": "Training Job Starting",
            "message": 'Your training job for "Customer support v1" is initializing',
            "action_url": f"/training/jobs/{job['id']}",
            "metadata": {"job_id": job["id"], "dataset_name": "Customer support v1"},
        }
    ]


def test_duplicate_delivery_changes_nothing(db: psycopg.Connection[DictRow], sqs_queue: QueueReader) -> None:
    body, job = _queued_message(db, sqs_queue)
    _dispatch(body)
    first_start = _job(db, job["id"])["started_at"]

    in_one_batch, _ = _dispatch(body, body)
    later, _ = _dispatch(body)

    assert in_one_batch == later == {"batchItemFailures": []}
    assert _job(db, job["id"])["started_at"] == first_start
    assert len(_notifications(db, "job_initializing")) == 1
    events = db.execute("select count(*) as n from job_events where job_id = %s", (job["id"],)).fetchone()
    assert events == {"n": 1}


def test_job_no_longer_queued_is_not_claimed(db: psycopg.Connection[DictRow], sqs_queue: QueueReader) -> None:
    body, job = _queued_message(db, sqs_queue)
    db.execute("update lora_training_jobs set status = 'cancelled' where id = %s", (job["id"],))

    assert _dispatch(body)[0] == {"batchItemFailures": []}
    assert _job(db, job["id"])["status"] == "cancelled"
    assert _notifications(db, "job_initializing") == []


def _without(message: dict[str, Any], key: str) -> dict[str, Any]:
    return {name: value for name, value in message.items() if name != key}


# Each a real queued job's own message, wrong in one way only: without that one difference it would
# claim the job, so a consumer that stopped checking it fails the test.
POISON: dict[str, Callable[[dict[str, Any]], str]] = {
    "not-json": lambda message: "{{{",
    "not-an-object": lambda message: json.dumps([message]),
    "unknown-type": lambda message: json.dumps(message | {"type": "training_job.deleted"}),
    "unknown-version": lambda message: json.dumps(message | {"version": 2}),
    "version-as-text": lambda message: json.dumps(message | {"version": "1"}),
    "job-id-not-a-uuid": lambda message: json.dumps(message | {"job_id": "job-1"}),
    "missing-field": lambda message: json.dumps(_without(message, "total_steps")),
}


@pytest.mark.parametrize("name", list(POISON))
def test_poison_message_is_acknowledged_and_changes_nothing(
    db: psycopg.Connection[DictRow], sqs_queue: QueueReader, name: str
) -> None:
    body, job = _queued_message(db, sqs_queue)

    response, _ = _dispatch(POISON[name](json.loads(body)))

    assert response == {"batchItemFailures": []}
    assert _job(db, job["id"])["status"] == "queued"
    assert _notifications(db, "job_initializing") == []


def test_the_poison_messages_original_claims_its_job(
    db: psycopg.Connection[DictRow], sqs_queue: QueueReader
) -> None:
    # What makes the poison test bite: the same message, unaltered, moves the job on.
    body, job = _queued_message(db, sqs_queue)

    assert _dispatch(body)[0] == {"batchItemFailures": []}
    assert _job(db, job["id"])["status"] == "initializing"


def test_message_for_a_job_that_no_longer_exists_is_acknowledged(
    db: psycopg.Connection[DictRow], sqs_queue: QueueReader
) -> None:
    body, _ = _queued_message(db, sqs_queue)
    gone = json.loads(body) | {"job_id": str(uuid4())}

    assert _dispatch(json.dumps(gone))[0] == {"batchItemFailures": []}


def test_message_naming_another_user_cannot_claim_the_job(
    db: psycopg.Connection[DictRow], sqs_queue: QueueReader
) -> None:
    body, job = _queued_message(db, sqs_queue)
    forged = json.loads(body) | {"user_id": str(uuid4())}

    assert _dispatch(json.dumps(forged))[0] == {"batchItemFailures": []}
    assert _job(db, job["id"])["status"] == "queued"


def test_partial_batch_failure_reports_only_the_failed_record(
    db: psycopg.Connection[DictRow], sqs_queue: QueueReader, monkeypatch: pytest.MonkeyPatch
) -> None:
    bodies_and_jobs = [_queued_message(db, sqs_queue) for _ in range(3)]
    failing_job = bodies_and_jobs[1][1]["id"]
    real_database = dispatcher_app.database

    class DownForOneJob:
        """The database, unreachable while the second job's message is handled."""

        def tenant_transaction(self, user_id: UUID) -> Any:
            if str(user_id) == bodies_and_jobs[1][1]["user_id"]:
                return UNREACHABLE.tenant_transaction(user_id)
            return real_database.tenant_transaction(user_id)

    monkeypatch.setattr(dispatcher_app, "database", DownForOneJob())

    response, message_ids = _dispatch(*(body for body, _ in bodies_and_jobs))

    assert response == {"batchItemFailures": [{"itemIdentifier": message_ids[1]}]}
    statuses = {job["id"]: _job(db, job["id"])["status"] for _, job in bodies_and_jobs}
    assert statuses[failing_job] == "queued"
    assert sorted(statuses.values()) == ["initializing", "initializing", "queued"]

    # SQS delivers the failed record again; with the database back it succeeds.
    monkeypatch.setattr(dispatcher_app, "database", real_database)
    assert _dispatch(bodies_and_jobs[1][0])[0] == {"batchItemFailures": []}
    assert _job(db, failing_job)["status"] == "initializing"


def test_database_down_for_the_whole_batch_fails_the_invocation_so_sqs_retries_it(
    db: psycopg.Connection[DictRow], sqs_queue: QueueReader, monkeypatch: pytest.MonkeyPatch
) -> None:
    body, job = _queued_message(db, sqs_queue)
    monkeypatch.setattr(dispatcher_app, "database", UNREACHABLE)

    with pytest.raises(BatchProcessingError, match="All records failed processing"):
        _dispatch(body, body)

    assert _job(db, job["id"])["status"] == "queued"


def test_a_claimed_job_is_assigned_to_the_workers_once_with_the_run_its_estimate_expects(
    db: psycopg.Connection[DictRow], sqs_queue: QueueReader, worker_tasks_queue: QueueReader
) -> None:
    body, job = _queued_message(db, sqs_queue)

    _dispatch(body)
    _dispatch(body)  # a duplicate delivery claims nothing and assigns nothing

    (message,) = worker_tasks_queue.receive_all()
    assignment = json.loads(message["Body"])
    assert message["MessageAttributes"]["type"]["StringValue"] == "training_job.assigned"
    assert {key: assignment[key] for key in assignment if key != "assigned_at"} == {
        "type": "training_job.assigned",
        "version": 2,
        "job_id": job["id"],
        "user_id": job["user_id"],
        # None named at create: the default model, whose figures the reference's are.
        "base_model": {
            "id": "mistral-7b-v0.3",
            "name": "Mistral 7B v0.3",
            "source": "mistralai/Mistral-7B-v0.3",
            "parameters": 7_248_023_552,
            "context_length": 32_768,
            "tokenizer": "mistral-v3",
        },
        "dataset": {
            "id": job["dataset_id"],
            "name": "Customer support v1",
            "format": "jsonl",
            "total_training_pairs": 5000,
            "total_tokens": 1200000,
            "file": None,  # a dataset made before uploads existed: its statistics, no file
        },
        "preset_id": "balanced",
        "gpu_config": {"type": "A100-80GB", "count": 2},
        "hyperparameters": job["hyperparameters"],
        "total_epochs": 3,
        "total_steps": 3750,  # 5000 pairs / batch 4 x 3 epochs
        "steps_per_epoch": 1250,
        # The estimate's 2800 s run (0.78 h shown): 2800 s on 2 GPUs at $3.50 is the $5.44 of its $5.94.
        "estimated_duration_seconds": 2800,
        # Where the worker writes the job's files: the template's bucket, the job's own prefix.
        "output": {
            "bucket": os.environ["ARTIFACTS_BUCKET"],
            "prefix": f"users/{job['user_id']}/jobs/{job['id']}/",
        },
    }
    rows = db.execute(
        "select destination, sent_at is not null as sent from job_queue_outbox where job_id = %s order by id",
        (job["id"],),
    ).fetchall()
    assert rows == [{"destination": "jobs", "sent": True}, {"destination": "worker_tasks", "sent": True}]


@pytest.mark.parametrize(
    ("base_model", "estimated_cost", "duration"),
    [
        # Balanced on 2 x A100-80GB over 5000 pairs, 1.2M tokens: 3750 steps of 960 tokens, + 1800 s.
        # NeMo at 2 x 1080 tok/s: 3466.7 s, $6.74 of GPU time (3467 s is charged exactly that).
        ("mistral-nemo-12b", 7.24, 3467),
        # Llama 3.1 70B at 2 x 180 tok/s: 11,800 s, $22.94 of GPU time.
        ("llama-3.1-70b", 23.44, 11800),
    ],
)
def test_a_job_on_a_chosen_model_is_assigned_that_model_and_its_run(
    db: psycopg.Connection[DictRow],
    sqs_queue: QueueReader,
    worker_tasks_queue: QueueReader,
    base_model: str,
    estimated_cost: float,
    duration: int,
) -> None:
    body, job = _queued_message(db, sqs_queue, base_model=base_model, estimated_cost=estimated_cost)

    _dispatch(body)

    (message,) = worker_tasks_queue.receive_all()
    assignment = json.loads(message["Body"])
    assert (
        assignment["version"],
        assignment["base_model"]["id"],
        assignment["estimated_duration_seconds"],
    ) == (
        2,
        base_model,
        duration,
    )
    assert job["base_model"] == base_model


@pytest.mark.parametrize(
    ("base_model", "estimated_cost"),
    [("mistral-7b-v0.3", 5.94), ("llama-3.2-3b", 4.86), ("mistral-nemo-12b", 7.24), ("llama-3.1-70b", 23.44)],
)
def test_a_run_that_takes_exactly_its_assigned_duration_is_charged_its_estimate_and_not_over_it(
    db: psycopg.Connection[DictRow],
    worker_db: Database,
    sqs_queue: QueueReader,
    worker_tasks_queue: QueueReader,
    base_model: str,
    estimated_cost: float,
) -> None:
    body, job = _queued_message(db, sqs_queue, base_model=base_model, estimated_cost=estimated_cost)
    _dispatch(body)
    (message,) = worker_tasks_queue.receive_all()
    assignment = json.loads(message["Body"])
    # Handed over long enough ago for the whole run (the bound on what a report may claim).
    db.execute(
        "update lora_training_jobs set started_at = now() - interval '4 hours' where id = %s", (job["id"],)
    )
    gpus = assignment["gpu_config"]["count"]
    completed = {
        "type": "training_job.completed", "version": 1, "job_id": job["id"], "user_id": job["user_id"],
        "sequence": 1, "sent_at": "2026-12-07T12:00:00Z", "step": assignment["total_steps"],
        "epoch": assignment["total_epochs"], "gpu_seconds": assignment["estimated_duration_seconds"] * gpus,
        "artifact_key": f"{assignment['output']['prefix']}adapter/adapter_model.safetensors",
    }  # fmt: skip

    assert job_reports.apply_report(worker_db, json.dumps(completed), RecordedStops()) == "applied"

    answer = invoke(get_job_app, build_event("get_job", sub=UUID(job["user_id"]), path=f"/jobs/{job['id']}"))
    shown = answer.body["data"]
    assert shown["current_cost"] == shown["estimated_total_cost"] == job["estimated_total_cost"]
    assert shown["cost_over_estimate"] is False

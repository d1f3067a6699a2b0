"""POST /jobs with an Idempotency-Key: a retried request never creates a second job."""

import asyncio
import importlib.util
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg.rows import DictRow

from functions.create_job import app as create_job_app
from tests.api_client import ApiResponse, build_event, invoke
from tests.factories import create_body, insert_dataset
from tests.services import QueueReader, owner_database_url

CREATE_JOB_APP = Path(create_job_app.__file__)


def _post(
    user_id: UUID, body: dict[str, Any], key: str | None, module: ModuleType = create_job_app
) -> ApiResponse:
    headers = {"idempotency-key": key} if key is not None else None
    return invoke(module, build_event("create_job", sub=user_id, body=body, headers=headers))


def _count(db: psycopg.Connection[DictRow], table: str) -> int:
    row = db.execute(f"select count(*) as n from {table}").fetchone()  # constant table names
    assert row is not None
    return int(row["n"])


@pytest.fixture
def user_id() -> UUID:
    return uuid4()


@pytest.fixture
def body(db: psycopg.Connection[DictRow], user_id: UUID) -> dict[str, Any]:
    return create_body(insert_dataset(db, user_id=user_id))


def test_same_key_and_body_replays_the_original_response(
    db: psycopg.Connection[DictRow], sqs_queue: QueueReader, user_id: UUID, body: dict[str, Any]
) -> None:
    first = _post(user_id, body, "order-42")
    again = _post(user_id, body, "order-42")

    assert (first.status, again.status) == (201, 201)
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert again.raw_body == first.raw_body
    assert _count(db, "lora_training_jobs") == 1
    assert _count(db, "lora_notifications") == 1
    assert len(sqs_queue.receive_all()) == 1


def test_same_key_with_a_different_body_is_refused_with_422(
    db: psycopg.Connection[DictRow], user_id: UUID, body: dict[str, Any]
) -> None:
    assert _post(user_id, body, "order-42").status == 201
    changed = body | {"preset_id": "quality"}

    response = _post(user_id, changed, "order-42")

    assert response.status == 422
    assert response.body == {
        "error": "Idempotency-Key reused",
        "details": "This Idempotency-Key was already used with a different request body; use a new key",
    }
    assert _count(db, "lora_training_jobs") == 1


def test_ignored_keys_do_not_make_a_different_request(
    db: psycopg.Connection[DictRow], user_id: UUID, body: dict[str, Any]
) -> None:
    first = _post(user_id, body, "k")
    with_extras = body | {"hyperparameters": body["hyperparameters"] | {"name": "Balanced"}}

    assert _post(user_id, with_extras, "k").headers["idempotent-replayed"] == "true"
    assert first.status == 201


def test_key_held_by_a_request_in_flight_gets_409(
    db: psycopg.Connection[DictRow], user_id: UUID, body: dict[str, Any]
) -> None:
    with psycopg.connect(owner_database_url()) as in_flight:
        # What the first request's transaction holds until it commits.
        in_flight.execute("select pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"{user_id}:order-42",))

        response = _post(user_id, body, "order-42")

    assert response.status == 409
    assert response.headers["retry-after"] == "1"
    assert response.body["error"] == "Request in progress"
    assert _count(db, "lora_training_jobs") == 0
    assert _post(user_id, body, "order-42").status == 201  # the lock is gone with that transaction


def test_keys_are_scoped_to_the_caller(
    db: psycopg.Connection[DictRow], user_id: UUID, body: dict[str, Any]
) -> None:
    other_user = uuid4()
    other_body = create_body(insert_dataset(db, user_id=other_user))

    first, second = _post(user_id, body, "shared-key"), _post(other_user, other_body, "shared-key")

    assert (first.status, second.status) == (201, 201)
    assert "idempotent-replayed" not in second.headers
    assert first.body["data"]["id"] != second.body["data"]["id"]


def test_refused_request_does_not_use_up_its_key(
    db: psycopg.Connection[DictRow], user_id: UUID, body: dict[str, Any]
) -> None:
    stale = _post(user_id, body | {"estimated_cost": 99}, "order-42")
    assert stale.status == 409

    corrected = _post(user_id, body, "order-42")

    assert corrected.status == 201
    assert "idempotent-replayed" not in corrected.headers


def test_expired_key_can_be_used_again(
    db: psycopg.Connection[DictRow], user_id: UUID, body: dict[str, Any]
) -> None:
    first = _post(user_id, body, "order-42")
    db.execute("update idempotency_keys set expires_at = now() - interval '1 second'")

    again = _post(user_id, body, "order-42")

    assert again.status == 201
    assert again.body["data"]["id"] != first.body["data"]["id"]
    assert _count(db, "idempotency_keys") == 1


def test_keys_are_kept_at_least_24_hours(
    db: psycopg.Connection[DictRow], user_id: UUID, body: dict[str, Any]
) -> None:
    _post(user_id, body, "order-42")

    row = db.execute(
        "select expires_at - created_at >= interval '24 hours' as kept from idempotency_keys"
    ).fetchone()

    assert row == {"kept": True}


def test_without_a_key_every_request_creates_a_job(
    db: psycopg.Connection[DictRow], user_id: UUID, body: dict[str, Any]
) -> None:
    assert [_post(user_id, body, None).status for _ in range(2)] == [201, 201]
    assert _count(db, "lora_training_jobs") == 2
    assert _count(db, "idempotency_keys") == 0


@pytest.mark.parametrize("key", ["", "x" * 256, "ключ", "tab\there", "new\nline"], ids=repr)
def test_malformed_key_is_rejected_with_400(
    db: psycopg.Connection[DictRow], user_id: UUID, body: dict[str, Any], key: str
) -> None:
    response = _post(user_id, body, key)

    assert response.status == 400
    assert response.body == {
        "error": "Validation error",
        "details": {"Idempotency-Key": ["Must be 1 to 255 printable ASCII characters"]},
    }
    assert _count(db, "lora_training_jobs") == 0


@pytest.mark.parametrize("key", ["a", "x" * 255, "~!@#$%^&*()_+ {}|:<>?"], ids=["one", "255", "symbols"])
def test_key_edges_are_accepted(
    db: psycopg.Connection[DictRow], user_id: UUID, body: dict[str, Any], key: str
) -> None:
    assert _post(user_id, body, key).status == 201


def _execution_environment(index: int) -> ModuleType:
    """A fresh copy of the create_job function: its own connection and SQS client, like its own Lambda."""
    spec = importlib.util.spec_from_file_location(f"create_job_environment_{index}", CREATE_JOB_APP)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fifty_concurrent_requests_with_one_key_create_one_job_and_one_message(
    db: psycopg.Connection[DictRow], sqs_queue: QueueReader, user_id: UUID, body: dict[str, Any]
) -> None:
    environments = [_execution_environment(i) for i in range(50)]
    start = threading.Barrier(50)

    def call(module: ModuleType) -> ApiResponse:
        asyncio.set_event_loop(asyncio.new_event_loop())  # Mangum runs the app on this thread's loop
        event = build_event("create_job", sub=user_id, body=body, headers={"idempotency-key": "double-click"})
        start.wait(timeout=30)
        return invoke(module, event)

    try:
        with ThreadPoolExecutor(max_workers=50) as pool:
            responses = list(pool.map(call, environments))
    finally:
        for module in environments:
            module.database.close()

    created = [r for r in responses if r.status == 201 and "idempotent-replayed" not in r.headers]
    replayed = [r for r in responses if r.status == 201 and r.headers.get("idempotent-replayed") == "true"]
    in_flight = [r for r in responses if r.status == 409]
    assert len(created) == 1
    assert len(replayed) + len(in_flight) == 49
    assert {r.body["data"]["id"] for r in replayed} <= {created[0].body["data"]["id"]}
    assert _count(db, "lora_training_jobs") == 1
    messages = sqs_queue.receive_all()
    assert [json.loads(m["Body"])["job_id"] for m in messages] == [created[0].body["data"]["id"]]

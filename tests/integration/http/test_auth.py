"""The caller is the JWT authorizer's `sub` claim. Anything less is 401, before any other work."""

from types import ModuleType
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg.rows import DictRow

from functions.create_job import app as create_job_app
from functions.estimate import app as estimate_app
from functions.get_job import app as get_job_app
from functions.list_jobs import app as list_jobs_app
from tests.api_client import build_event, invoke
from tests.factories import EVENT_DATASET_ID, EVENT_USER_ID, insert_dataset
from tests.services import QueueReader

FUNCTIONS: dict[str, ModuleType] = {
    "estimate": estimate_app,
    "create_job": create_job_app,
    "list_jobs": list_jobs_app,
    "get_job": get_job_app,
}


def _without_claim(event: dict[str, Any]) -> dict[str, Any]:
    del event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"]
    return event


def _empty_authorizer(event: dict[str, Any]) -> dict[str, Any]:
    event["requestContext"]["authorizer"] = {}
    return event


BROKEN_IDENTITIES = {
    "no-authorizer": lambda name: build_event(name, sub=None),
    "no-sub-claim": lambda name: _without_claim(build_event(name)),
    "empty-authorizer": lambda name: _empty_authorizer(build_event(name)),
    "sub-not-a-uuid": lambda name: build_event(name, sub="alice"),
    "sub-empty": lambda name: build_event(name, sub=""),
    # The same UUID as the caller's, spelt otherwise: never that user.
    "sub-urn": lambda name: build_event(name, sub=f"urn:uuid:{EVENT_USER_ID}"),
    "sub-braces": lambda name: build_event(name, sub=f"{{{EVENT_USER_ID}}}"),
    "sub-upper-case": lambda name: build_event(name, sub=str(EVENT_USER_ID).upper()),
    "sub-without-hyphens": lambda name: build_event(name, sub=UUID(str(EVENT_USER_ID)).hex),
    "sub-upper-without-hyphens": lambda name: build_event(name, sub=UUID(str(EVENT_USER_ID)).hex.upper()),
}


@pytest.mark.parametrize("function", list(FUNCTIONS))
@pytest.mark.parametrize("identity", list(BROKEN_IDENTITIES))
def test_request_without_a_valid_caller_is_rejected_with_401(
    db: psycopg.Connection[DictRow], sqs_queue: QueueReader, function: str, identity: str
) -> None:
    insert_dataset(db, user_id=EVENT_USER_ID, dataset_id=EVENT_DATASET_ID)

    response = invoke(FUNCTIONS[function], BROKEN_IDENTITIES[identity](function))

    assert response.status == 401
    assert response.body == {"error": "Unauthorized", "details": "A valid bearer token is required"}
    assert db.execute("select count(*) as n from lora_training_jobs").fetchone() == {"n": 0}
    assert sqs_queue.receive_all() == []


def test_401_comes_before_body_validation() -> None:
    event = build_event("estimate", sub=None, raw_body="not json")

    assert invoke(estimate_app, event).status == 401


def test_another_users_dataset_is_not_found_for_estimate(db: psycopg.Connection[DictRow]) -> None:
    insert_dataset(db, user_id=EVENT_USER_ID, dataset_id=EVENT_DATASET_ID)

    response = invoke(estimate_app, build_event("estimate", sub=uuid4()))

    assert response.status == 404
    assert response.body == {"error": "Dataset not found or access denied"}


def test_unknown_dataset_is_not_found_for_estimate(db: psycopg.Connection[DictRow]) -> None:
    response = invoke(estimate_app, build_event("estimate"))

    assert response.status == 404
    assert response.body == {"error": "Dataset not found or access denied"}


@pytest.mark.parametrize(
    ("function", "method", "path"), [("estimate", "GET", None), ("list_jobs", "GET", "/nope")]
)
def test_routing_errors_keep_the_error_shape(function: str, method: str, path: str | None) -> None:
    event = build_event(function, path=path)
    event["requestContext"]["http"]["method"] = method

    response = invoke(FUNCTIONS[function], event)

    assert response.status in (404, 405)
    assert response.body == {"error": "Method not allowed" if response.status == 405 else "Not found"}


def test_the_canonical_form_of_the_callers_uuid_is_the_caller(db: psycopg.Connection[DictRow]) -> None:
    insert_dataset(db, user_id=EVENT_USER_ID, dataset_id=EVENT_DATASET_ID)
    assert str(EVENT_USER_ID) == str(EVENT_USER_ID).lower()

    assert invoke(estimate_app, build_event("estimate", sub=str(EVENT_USER_ID))).status == 200

"""Every answer of every HTTP function: no caching, no content sniffing, the request id; one log record
per unhandled error."""

from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg.rows import DictRow

from functions.account_usage import app as account_usage_app
from functions.cancel_job import app as cancel_job_app
from functions.catalog import app as catalog_app
from functions.create_job import app as create_job_app
from functions.estimate import app as estimate_app
from functions.get_account_limits import app as get_account_limits_app
from functions.get_dataset import app as get_dataset_app
from functions.get_job import app as get_job_app
from functions.job_checkpoints import app as job_checkpoints_app
from functions.job_events import app as job_events_app
from functions.job_metrics import app as job_metrics_app
from functions.list_jobs import app as list_jobs_app
from functions.list_webhooks import app as list_webhooks_app
from functions.put_account_limits import app as put_account_limits_app
from pipeline.jobs import notifications_repository
from tests.api_client import build_event, invoke
from tests.factories import (
    EVENT_DATASET_ID,
    EVENT_JOB_ID,
    EVENT_USER_ID,
    create_body,
    insert_dataset,
    insert_job,
)

APPS = {
    "estimate": estimate_app,
    "create_job": create_job_app,
    "list_jobs": list_jobs_app,
    "get_job": get_job_app,
    "get_dataset": get_dataset_app,
    "cancel_job": cancel_job_app,
    "job_events": job_events_app,
    "job_metrics": job_metrics_app,
    "job_checkpoints": job_checkpoints_app,
    "catalog": catalog_app,
    "list_webhooks": list_webhooks_app,
    "get_account_limits": get_account_limits_app,
    "put_account_limits": put_account_limits_app,
    "account_usage": account_usage_app,
}


def _assert_headers(response: Any, event: dict[str, Any]) -> None:
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-request-id"] == event["requestContext"]["requestId"]


@pytest.mark.parametrize("name", sorted(APPS))
def test_success_answers_carry_no_store_nosniff_and_the_request_id(
    name: str, db: psycopg.Connection[DictRow]
) -> None:
    insert_dataset(db, user_id=EVENT_USER_ID, dataset_id=EVENT_DATASET_ID)
    insert_job(db, user_id=EVENT_USER_ID, dataset_id=EVENT_DATASET_ID, job_id=EVENT_JOB_ID)
    event = build_event(name)

    response = invoke(APPS[name], event)

    assert response.status in (200, 201), response.body
    _assert_headers(response, event)


@pytest.mark.parametrize("name", sorted(APPS))
def test_error_answers_carry_them_too(name: str) -> None:
    event = build_event(name, sub=None)  # no caller: 401

    response = invoke(APPS[name], event)

    assert response.status == 401
    _assert_headers(response, event)


def test_a_routing_error_inside_a_function_carries_them(db: psycopg.Connection[DictRow]) -> None:
    event = build_event("get_job", path="/jobs/x/y")
    response = invoke(get_job_app, event)
    assert response.status == 404
    _assert_headers(response, event)


def test_an_unhandled_error_is_logged_once_with_the_request_id(
    db: psycopg.Connection[DictRow], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    insert_dataset(db, user_id=EVENT_USER_ID, dataset_id=EVENT_DATASET_ID)

    def explode(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(notifications_repository, "insert", explode)
    event = build_event("create_job", body=create_body(UUID(str(EVENT_DATASET_ID))))

    response = invoke(create_job_app, event)

    assert response.status == 500
    _assert_headers(response, event)
    logged = [r for r in caplog.records if r.exc_info]
    assert len(logged) == 1
    assert logged[0].__dict__["request_id"] == event["requestContext"]["requestId"]

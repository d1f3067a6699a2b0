"""SQL round trips per request: pipelined reads take 1, a create at most 3 in all."""

from types import ModuleType
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from psycopg.rows import DictRow

from bench.protocol_trace import round_trips
from functions.create_job import app as create_job_app
from functions.estimate import app as estimate_app
from functions.get_job import app as get_job_app
from functions.list_jobs import app as list_jobs_app
from tests.api_client import build_event, invoke
from tests.factories import create_body, estimate_body, insert_dataset, insert_job
from tests.services import QueueReader


def _traced(module: ModuleType, event: dict[str, Any]) -> tuple[int, int]:
    invoke(module, event)  # warm: the connection exists before tracing starts
    conn = module.database._connection
    assert conn is not None
    with round_trips(conn) as counted:
        response = invoke(module, event)
    assert response.status in (200, 201), response.raw_body
    return counted.count, counted.statements


@pytest.fixture
def ids(db: psycopg.Connection[DictRow]) -> dict[str, Any]:
    user_id = uuid4()
    dataset_id = insert_dataset(db, user_id=user_id)
    return {
        "user": user_id,
        "dataset": dataset_id,
        "job": insert_job(db, user_id=user_id, dataset_id=dataset_id),
    }


def test_reads_take_one_round_trip(ids: dict[str, Any]) -> None:
    user = ids["user"]
    assert (
        _traced(estimate_app, build_event("estimate", sub=user, body=estimate_body(ids["dataset"])))[0] == 1
    )
    assert _traced(get_job_app, build_event("get_job", sub=user, path=f"/jobs/{ids['job']}"))[0] == 1
    assert _traced(list_jobs_app, build_event("list_jobs", sub=user, query={"status": "queued"}))[0] == 1


@pytest.mark.parametrize("key", [None, "with-key"])
def test_create_takes_at_most_three_round_trips(
    ids: dict[str, Any], sqs_queue: QueueReader, key: str | None
) -> None:
    headers = {"idempotency-key": f"{key}-{uuid4()}"} if key else None
    event = build_event("create_job", sub=ids["user"], body=create_body(ids["dataset"]), headers=headers)
    invoke(create_job_app, build_event("create_job", sub=ids["user"], body=create_body(ids["dataset"])))
    conn = create_job_app.database._connection
    assert conn is not None

    with round_trips(conn) as counted:
        response = invoke(create_job_app, event)

    assert response.status == 201
    assert counted.count <= 3, f"{counted.count} round trips for {counted.statements} statements"
    assert counted.statements >= 6  # the work is all there: it is batched, not skipped

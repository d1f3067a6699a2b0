"""One connection per execution environment: reused, replaced when broken, 503 while the DB is down."""

from uuid import uuid4

import psycopg
import pytest
from psycopg.rows import DictRow

from functions.create_job import app as create_job_app
from functions.estimate import app as estimate_app
from pipeline.database import Database
from pipeline.settings import DatabaseSettings
from tests.api_client import build_event, invoke
from tests.conftest import QueueReader
from tests.factories import create_body, estimate_body, insert_dataset

# Nothing listens on port 1: connecting is refused at once, as when the database is down.
UNREACHABLE = Database(DatabaseSettings(DATABASE_URL="postgresql://nobody@127.0.0.1:1/none"))


def _backend_pid(database: Database) -> int:
    with database.connection() as conn:
        row = conn.execute("select pg_backend_pid() as pid").fetchone()
    assert row is not None
    return int(row["pid"])


def test_connection_is_reused_across_invocations(db: psycopg.Connection[DictRow]) -> None:
    user_id = uuid4()
    body = estimate_body(insert_dataset(db, user_id=user_id))

    invoke(estimate_app, build_event("estimate", sub=user_id, body=body))
    first = _backend_pid(estimate_app.database)
    invoke(estimate_app, build_event("estimate", sub=user_id, body=body))

    assert _backend_pid(estimate_app.database) == first


def test_database_down_answers_503_with_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(estimate_app, "database", UNREACHABLE)

    response = invoke(estimate_app, build_event("estimate"))

    assert response.status == 503
    assert response.body == {"error": "Service unavailable"}
    assert response.headers["retry-after"] == "5"


def test_database_down_on_create_enqueues_nothing(
    monkeypatch: pytest.MonkeyPatch, sqs_queue: QueueReader
) -> None:
    monkeypatch.setattr(create_job_app, "database", UNREACHABLE)

    response = invoke(create_job_app, build_event("create_job", body=create_body(uuid4())))

    assert response.status == 503
    assert sqs_queue.receive_all() == []


def test_killed_connection_is_replaced_for_the_next_request(db: psycopg.Connection[DictRow]) -> None:
    user_id = uuid4()
    event = build_event("estimate", sub=user_id, body=estimate_body(insert_dataset(db, user_id=user_id)))
    assert invoke(estimate_app, event).status == 200
    db.execute("select pg_terminate_backend(%s)", (_backend_pid(estimate_app.database),))

    # The request that finds the connection dead fails fast with 503; the next one reconnects.
    assert invoke(estimate_app, event).status == 503
    assert invoke(estimate_app, event).status == 200


def test_statement_timeout_answers_503(
    db: psycopg.Connection[DictRow], monkeypatch: pytest.MonkeyPatch
) -> None:
    user_id = uuid4()
    dataset_id = insert_dataset(db, user_id=user_id)
    impatient = Database(
        DatabaseSettings(
            DATABASE_URL=estimate_app.database._settings.database_url, DATABASE_STATEMENT_TIMEOUT_MS=100
        )
    )
    monkeypatch.setattr(estimate_app, "database", impatient)
    with db.transaction():
        # Hold a conflicting lock so the estimate's read of the dataset must wait past the timeout.
        db.execute("lock table lora_datasets in access exclusive mode")
        response = invoke(estimate_app, build_event("estimate", sub=user_id, body=estimate_body(dataset_id)))

    assert response.status == 503
    assert response.body == {"error": "Service unavailable"}
    impatient.close()

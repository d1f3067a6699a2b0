"""One connection per execution environment: reused, replaced when broken, 503 while the DB is down."""

import os
import socket
from collections.abc import Iterator
from types import ModuleType
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from psycopg.rows import DictRow

from functions.create_job import app as create_job_app
from functions.estimate import app as estimate_app
from functions.get_job import app as get_job_app
from functions.list_jobs import app as list_jobs_app
from pipeline.db.database import Database, DatabaseSettings
from pipeline.runtime.settings import ConfigurationError
from tests.api_client import build_event, invoke
from tests.factories import create_body, estimate_body, insert_dataset
from tests.services import QueueReader

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


@pytest.mark.parametrize(
    "app_module",
    [estimate_app, create_job_app, list_jobs_app, get_job_app],
    ids=["estimate", "create_job", "list_jobs", "get_job"],
)
def test_database_down_answers_503_with_retry_after_on_every_endpoint(
    monkeypatch: pytest.MonkeyPatch, app_module: ModuleType
) -> None:
    monkeypatch.setattr(app_module, "database", UNREACHABLE)
    name = app_module.__name__.split(".")[1]

    response = invoke(app_module, build_event(name))

    assert response.status == 503
    assert response.body == {"error": "Service unavailable"}
    assert response.headers["retry-after"] == "5"


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never answers: a database that hangs."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield int(listener.getsockname()[1])


def test_database_that_never_answers_gets_503_after_the_connect_timeout(
    monkeypatch: pytest.MonkeyPatch, silent_server: int
) -> None:
    hanging = Database(
        DatabaseSettings(
            DATABASE_URL=f"postgresql://x@127.0.0.1:{silent_server}/db", DATABASE_CONNECT_TIMEOUT=1
        )
    )
    monkeypatch.setattr(get_job_app, "database", hanging)

    response = invoke(get_job_app, build_event("get_job"))

    assert response.status == 503
    assert response.body == {"error": "Service unavailable"}


def test_database_down_on_create_enqueues_nothing(
    monkeypatch: pytest.MonkeyPatch, sqs_queue: QueueReader
) -> None:
    monkeypatch.setattr(create_job_app, "database", UNREACHABLE)

    response = invoke(create_job_app, build_event("create_job", body=create_body(uuid4())))

    assert response.status == 503
    assert sqs_queue.receive_all() == []


def test_a_killed_connection_is_replaced_and_the_very_next_request_succeeds(
    db: psycopg.Connection[DictRow],
) -> None:
    user_id = uuid4()
    event = build_event("estimate", sub=user_id, body=estimate_body(insert_dataset(db, user_id=user_id)))
    assert invoke(estimate_app, event).status == 200
    killed = _backend_pid(estimate_app.database)
    db.execute("select pg_terminate_backend(%s)", (killed,))

    # As after a restart or a failover: no request fails for it (see test_database_resilience.py).
    assert invoke(estimate_app, event).status == 200
    assert _backend_pid(estimate_app.database) != killed


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


@pytest.mark.parametrize(("behind_proxy", "threshold"), [("false", 5), ("true", None)])
def test_prepared_statements_are_off_behind_rds_proxy(behind_proxy: str, threshold: int | None) -> None:
    settings = DatabaseSettings.from_env(
        {"DATABASE_URL": os.environ["DATABASE_URL"], "DATABASE_BEHIND_PROXY": behind_proxy}
    )
    database = Database(settings)

    with database.connection() as conn:
        assert conn.prepare_threshold == threshold
    database.close()


@pytest.mark.parametrize("mode", ["allow", "disable"])  # not libpq's default, which it does not report
def test_tls_mode_is_the_configured_sslmode(mode: str) -> None:
    url = os.environ["DATABASE_URL"]
    database = Database(DatabaseSettings.from_env({"DATABASE_URL": url, "DATABASE_SSLMODE": mode}))

    with database.connection() as conn:
        assert conn.info.get_parameters()["sslmode"] == mode
    database.close()


def test_unknown_tls_mode_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="environment variable DATABASE_SSLMODE is invalid"):
        DatabaseSettings.from_env({"DATABASE_URL": "postgresql://h/db", "DATABASE_SSLMODE": "always"})


def test_timeout_inside_a_create_rolls_back_and_leaves_the_connection_usable(
    db: psycopg.Connection[DictRow], monkeypatch: pytest.MonkeyPatch, sqs_queue: QueueReader
) -> None:
    user_id = uuid4()
    body = create_body(insert_dataset(db, user_id=user_id))
    impatient = Database(
        DatabaseSettings(
            DATABASE_URL=create_job_app.database._settings.database_url, DATABASE_STATEMENT_TIMEOUT_MS=100
        )
    )
    monkeypatch.setattr(create_job_app, "database", impatient)
    assert invoke(create_job_app, build_event("create_job", sub=user_id, body=body)).status == 201
    with db.transaction():
        db.execute("lock table lora_datasets in access exclusive mode")  # the create's read must wait
        timed_out = invoke(create_job_app, build_event("create_job", sub=user_id, body=body))

    assert timed_out.status == 503
    assert db.execute("select count(*) as n from lora_training_jobs").fetchone() == {"n": 1}
    assert invoke(create_job_app, build_event("create_job", sub=user_id, body=body)).status == 201
    impatient.close()


def test_server_error_inside_a_create_is_a_500_and_the_connection_stays_usable(
    db: psycopg.Connection[DictRow], monkeypatch: pytest.MonkeyPatch, sqs_queue: QueueReader
) -> None:
    from pipeline.jobs import notifications_repository

    user_id = uuid4()
    body = create_body(insert_dataset(db, user_id=user_id))
    real_insert = notifications_repository.insert

    def violating_insert(conn: Any, **kwargs: Any) -> None:
        real_insert(conn, **(kwargs | {"priority": "urgent"}))  # breaks the table's CHECK on the server

    monkeypatch.setattr(notifications_repository, "insert", violating_insert)
    failed = invoke(create_job_app, build_event("create_job", sub=user_id, body=body))
    monkeypatch.setattr(notifications_repository, "insert", real_insert)

    assert failed.status == 500
    assert db.execute("select count(*) as n from lora_training_jobs").fetchone() == {"n": 0}
    assert invoke(create_job_app, build_event("create_job", sub=user_id, body=body)).status == 201


@pytest.mark.parametrize("reads", [False, True], ids=["transaction", "read"])
def test_a_statement_prepared_in_a_failed_pipeline_is_never_used_again(reads: bool) -> None:
    # psycopg prepares a statement on its sixth run; when that run falls behind a statement that failed
    # on the server, its Parse is skipped but psycopg keeps the name: every later run of it on the
    # connection failed ("prepared statement _pg3_N does not exist"), a 500 for every request of that
    # warm environment. Found by a shuffled test order.
    database = Database(DatabaseSettings.from_env())
    user_id = uuid4()

    def fail_then(conn: psycopg.Connection[DictRow]) -> None:
        conn.execute("select 1 / 0 as failed")  # fails on the server, not in Python
        conn.execute("select 1 as one")

    for _ in range(2):  # ROLLBACK is then a statement psycopg has seen: it no longer clears its cache
        with pytest.raises(psycopg.errors.DivisionByZero), database.tenant_transaction(user_id) as conn:
            fail_then(conn)
    for _ in range(5):
        assert database.read(user_id, lambda conn: conn.execute("select 1 as one").fetchone) == {"one": 1}
    with pytest.raises(psycopg.errors.DivisionByZero):
        _run_failing(database, user_id, fail_then, reads=reads)

    assert database.read(user_id, lambda conn: conn.execute("select 1 as one").fetchone) == {"one": 1}
    with database.tenant_transaction(user_id) as conn:
        assert conn.execute("select 1 as one").fetchone() == {"one": 1}
    database.close()


def _run_failing(database: Database, user_id: Any, statements: Any, *, reads: bool) -> None:
    if reads:
        database.read(user_id, lambda conn: (statements(conn), lambda: None)[1])
        return
    with database.tenant_transaction(user_id) as conn:
        statements(conn)

"""The migrations custom resource: applies on Create/Update, keeps the schema on Delete, always answers."""

import uuid
from collections.abc import Iterator
from typing import Any, cast
from urllib.parse import urlsplit

import psycopg
import pytest

from functions.migrate import app as migrate_app
from pipeline.db.migrate import load_migrations
from tests.api_client import FakeLambdaContext, load_event
from tests.services import CloudFormationEndpoint, owner_database_url

ALL_MIGRATIONS = ",".join(m.filename for m in load_migrations())


@pytest.fixture
def empty_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    name = f"pipeline_cr_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(owner_database_url(), autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    url = urlsplit(owner_database_url())._replace(path=f"/{name}").geturl()
    monkeypatch.setenv("MIGRATION_DATABASE_URL", url)
    yield url
    with psycopg.connect(owner_database_url(), autocommit=True) as admin:
        admin.execute(f'drop database "{name}" with (force)')


def _invoke(name: str, endpoint: CloudFormationEndpoint, remaining_ms: int = 300_000) -> dict[str, Any]:
    event = load_event(name) | {"ResponseURL": endpoint.url}
    context = FakeLambdaContext()
    context.get_remaining_time_in_millis = lambda: remaining_ms  # type: ignore[method-assign]
    migrate_app.lambda_handler(event, cast(Any, context))
    assert len(endpoint.answers) == 1, "exactly one answer per request"
    return endpoint.answers.pop()


def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {row[0] for row in conn.execute("select tablename from pg_tables where schemaname = 'public'")}


def test_create_applies_every_migration_and_answers_success(
    cloudformation: CloudFormationEndpoint, empty_database: str
) -> None:
    answer = _invoke("migrate", cloudformation)

    event = load_event("migrate")
    assert answer == {
        "Status": "SUCCESS",
        "Reason": f"Applied {len(load_migrations())} migration(s)",
        "PhysicalResourceId": "pipeline-schema-migrations",
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": "SchemaMigrations",
        "NoEcho": False,
        "Data": {"Applied": ALL_MIGRATIONS},
    }
    assert {"lora_training_jobs", "job_queue_outbox", "idempotency_keys"} <= _tables(empty_database)
    assert cloudformation.headers[0]["Content-Type"] == ""  # the pre-signed URL was signed without one


def test_update_applies_only_what_is_pending(
    cloudformation: CloudFormationEndpoint, empty_database: str
) -> None:
    _invoke("migrate", cloudformation)

    answer = _invoke("migrate_update", cloudformation)

    assert (answer["Status"], answer["Data"], answer["PhysicalResourceId"]) == (
        "SUCCESS",
        {"Applied": "none"},
        "pipeline-schema-migrations",
    )


def test_delete_keeps_the_schema(cloudformation: CloudFormationEndpoint, empty_database: str) -> None:
    _invoke("migrate", cloudformation)

    answer = _invoke("migrate_delete", cloudformation)

    assert (answer["Status"], answer["Reason"]) == ("SUCCESS", "Schema kept on delete")
    assert "lora_training_jobs" in _tables(empty_database)


def test_unreachable_database_answers_failed_with_the_reason(
    cloudformation: CloudFormationEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIGRATION_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")

    answer = _invoke("migrate", cloudformation)

    assert answer["Status"] == "FAILED"
    assert answer["Reason"].startswith("Migrations failed: OperationalError")


def test_missing_configuration_answers_failed_naming_the_variable(
    cloudformation: CloudFormationEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MIGRATION_DATABASE_URL", raising=False)

    answer = _invoke("migrate", cloudformation)

    assert answer["Status"] == "FAILED"
    assert (
        "environment variable MIGRATION_DATABASE_URL (or MIGRATION_DATABASE_SECRET_ARN) is not set"
        in (answer["Reason"])
    )


def test_migration_blocked_by_another_answers_failed_before_the_function_times_out(
    cloudformation: CloudFormationEndpoint, empty_database: str
) -> None:
    with psycopg.connect(empty_database, autocommit=True) as other_deploy:
        other_deploy.execute("select pg_advisory_lock(%s)", (0x70697065,))  # the migrator's lock

        # 16 s left: 15 s are kept for answering, so the lock is waited for 1 s at most.
        answer = _invoke("migrate", cloudformation, remaining_ms=16_000)

    assert answer["Status"] == "FAILED"
    assert "LockNotAvailable" in answer["Reason"]
    assert _tables(empty_database) == set()


def test_an_unreachable_response_url_is_logged_and_the_answer_returned_not_raised(
    empty_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    # As under `sam local invoke` with events/migrate.json, whose pre-signed URL is not a real one.
    event = load_event("migrate") | {"ResponseURL": "http://127.0.0.1:9/unreachable"}
    context = FakeLambdaContext()

    answer = migrate_app.lambda_handler(event, cast(Any, context))

    assert answer["Status"] == "SUCCESS"
    assert answer["Delivered"] is False
    assert answer["Data"] == {"Applied": ALL_MIGRATIONS}
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == [
        "could not answer CloudFormation"
    ]

"""DATABASE_SECRET_ARN: the URI from Secrets Manager through the Lambda extension, refetched on rotation."""

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import uuid4

import psycopg
import pytest
from psycopg.rows import DictRow

from functions.estimate import app as estimate_app
from local.local_database import url_for_role
from pipeline.db.database import Database, DatabaseSettings
from tests.api_client import build_event, invoke
from tests.factories import estimate_body, insert_dataset

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:pipeline/app-AbCdEf"
SESSION_TOKEN = "session-token-of-this-environment"


@dataclass
class FakeExtension:
    """The AWS Parameters and Secrets Lambda Extension's HTTP API, answering with `urls` in turn."""

    urls: list[str]
    port: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)

    def secret_string(self) -> str:
        url = self.urls[min(len(self.requests) - 1, len(self.urls) - 1)]
        return json.dumps({"url": url, "username": "pipeline_app"})


@pytest.fixture
def extension(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeExtension]:
    fake = FakeExtension(urls=[])

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            fake.requests.append(
                {
                    "path": parts.path,
                    "query": parse_qs(parts.query),
                    "token": self.headers.get("X-Aws-Parameters-Secrets-Token"),
                }
            )
            if self.headers.get("X-Aws-Parameters-Secrets-Token") != SESSION_TOKEN:
                self.send_response(400)
                self.end_headers()
                return
            body = json.dumps(
                {"ARN": ARN, "Name": "pipeline/app", "SecretString": fake.secret_string()}
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    fake.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)
    yield fake
    server.shutdown()
    server.server_close()


def _database(extension: FakeExtension) -> Database:
    return Database(
        DatabaseSettings.from_env(
            {"DATABASE_SECRET_ARN": ARN, "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": str(extension.port)}
        )
    )


def _estimate(db: psycopg.Connection[DictRow], monkeypatch: pytest.MonkeyPatch, database: Database) -> int:
    user_id = uuid4()
    monkeypatch.setattr(estimate_app, "database", database)
    event = build_event("estimate", sub=user_id, body=estimate_body(insert_dataset(db, user_id=user_id)))
    return invoke(estimate_app, event).status


def test_the_secret_is_fetched_once_and_reused(
    db: psycopg.Connection[DictRow], monkeypatch: pytest.MonkeyPatch, extension: FakeExtension
) -> None:
    extension.urls = [estimate_app.database._settings.database_url or ""]
    database = _database(extension)

    statuses = [_estimate(db, monkeypatch, database) for _ in range(3)]

    assert statuses == [200, 200, 200]
    assert len(extension.requests) == 1
    assert extension.requests[0] == {
        "path": "/secretsmanager/get",
        "query": {"secretId": [ARN]},
        "token": SESSION_TOKEN,
    }
    database.close()


def test_a_refused_login_fetches_the_rotated_secret_and_connects(
    db: psycopg.Connection[DictRow], monkeypatch: pytest.MonkeyPatch, extension: FakeExtension
) -> None:
    good = estimate_app.database._settings.database_url or ""
    # First the stale secret: a role the server refuses (as after a password rotation), then the new one.
    extension.urls = [url_for_role(good, "rotated_away"), good]
    database = _database(extension)

    assert _estimate(db, monkeypatch, database) == 200
    assert len(extension.requests) == 2
    database.close()


def test_extension_unreachable_answers_503(
    db: psycopg.Connection[DictRow], monkeypatch: pytest.MonkeyPatch, extension: FakeExtension
) -> None:
    settings = DatabaseSettings.from_env(
        {"DATABASE_SECRET_ARN": ARN, "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": "9"}
    )

    assert _estimate(db, monkeypatch, Database(settings)) == 503


def test_extension_refusing_the_token_answers_503(
    db: psycopg.Connection[DictRow], monkeypatch: pytest.MonkeyPatch, extension: FakeExtension
) -> None:
    extension.urls = [estimate_app.database._settings.database_url or ""]
    monkeypatch.setenv("AWS_SESSION_TOKEN", "someone else's")

    assert _estimate(db, monkeypatch, _database(extension)) == 503
    assert len(extension.requests) == 1


def test_an_explicit_url_wins_over_the_secret() -> None:
    settings = DatabaseSettings.from_env({"DATABASE_URL": "postgresql://h/db", "DATABASE_SECRET_ARN": ARN})

    assert Database(settings)._secret is None


def test_the_cursor_secret_is_read_from_secrets_manager_on_first_use_not_from_the_configuration() -> None:
    import boto3

    from pipeline.db.cursor import CursorSecret, PaginationSettings

    client = boto3.client("secretsmanager", region_name="us-east-1")
    arn = client.create_secret(Name=f"cursor-{uuid4().hex}", SecretString="s" * 48)["ARN"]
    settings = PaginationSettings.from_env(
        {"PAGINATION_CURSOR_SECRET_ARN": arn, "DATABASE_SECRET_READER": "sdk"}
    )

    secret = CursorSecret(settings)

    assert settings.cursor_secret is None
    assert secret.value() == "s" * 48


def test_a_cursor_secret_too_short_to_sign_with_is_unavailable_not_used() -> None:
    import boto3

    from pipeline.aws.secrets import SecretUnavailable
    from pipeline.db.cursor import CursorSecret, PaginationSettings

    client = boto3.client("secretsmanager", region_name="us-east-1")
    arn = client.create_secret(Name=f"cursor-{uuid4().hex}", SecretString="short")["ARN"]
    secret = CursorSecret(
        PaginationSettings.from_env({"PAGINATION_CURSOR_SECRET_ARN": arn, "DATABASE_SECRET_READER": "sdk"})
    )

    with pytest.raises(SecretUnavailable):
        secret.value()


def test_the_migrations_read_the_owners_secret_when_they_run() -> None:
    import boto3

    from pipeline.db.migrate import MigrationSettings

    client = boto3.client("secretsmanager", region_name="us-east-1")
    arn = client.create_secret(
        Name=f"owner-{uuid4().hex}", SecretString='{"url": "postgresql://owner:pw@db:5432/pipeline"}'
    )["ARN"]
    settings = MigrationSettings.from_env(
        {"MIGRATION_DATABASE_SECRET_ARN": arn, "DATABASE_SECRET_READER": "sdk"}
    )

    assert settings.database_url is None
    assert settings.owner_url() == "postgresql://owner:pw@db:5432/pipeline"

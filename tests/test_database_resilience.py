"""The database never hangs a request and a connection gone bad costs no failed request, against a server
of its own that these tests freeze (SIGSTOP) and whose backends they terminate (as a restart or a
failover does)."""

import json
import os
import signal
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest

from local.local_database import APP_ROLE, url_for_role
from pipeline import datasets_repository, job_dispatch
from pipeline.database import Database
from pipeline.errors import ApiError
from pipeline.migrate import migrate
from pipeline.settings import DatabaseSettings


class Server:
    def __init__(self) -> None:
        import pgserver

        self.data_dir = Path(tempfile.mkdtemp(prefix="pipeline-resilience-pg-"))
        self._server = pgserver.get_server(self.data_dir, cleanup_mode="stop")  # type: ignore[attr-defined]
        server_url = self._server.get_uri()
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute("create database resilience")
        self.owner_url = urlsplit(server_url)._replace(path="/resilience").geturl()
        migrate(self.owner_url)
        self.app_url = url_for_role(self.owner_url, APP_ROLE)

    @property
    def postmaster_pid(self) -> int:
        return int((self.data_dir / "postmaster.pid").read_text().splitlines()[0])

    def stop(self) -> None:
        self._server.cleanup()


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    started = Server()
    yield started
    started.stop()


def _database(server: Server, **settings: str) -> Database:
    return Database(DatabaseSettings.from_env({"DATABASE_URL": server.app_url, **settings}))


def _read(database: Database) -> Any:
    user = uuid.uuid4()
    return database.read(
        user, lambda conn: datasets_repository.find_for_user(conn, uuid.uuid4(), user).result
    )


def _backend_pid(database: Database) -> int:
    assert database._connection is not None
    return database._connection.info.backend_pid


class Frozen:
    """SIGSTOP the postmaster and the given backends; SIGCONT them on exit, whatever happened, and after
    THAW_AFTER_S at the latest: code that waits for a frozen server then fails its timing, not hangs."""

    THAW_AFTER_S = 8

    def __init__(self, *pids: int) -> None:
        self.pids = pids
        self._thaw = threading.Timer(self.THAW_AFTER_S, self._continue)

    def _continue(self) -> None:
        for pid in self.pids:
            os.kill(pid, signal.SIGCONT)

    def __enter__(self) -> None:
        for pid in self.pids:
            os.kill(pid, signal.SIGSTOP)
        self._thaw.start()

    def __exit__(self, *exc: object) -> None:
        self._thaw.cancel()
        self._continue()


def test_a_frozen_server_answers_503_within_the_deadline_on_an_open_connection(server: Server) -> None:
    database = _database(server, DATABASE_REQUEST_DEADLINE_MS="1000")
    assert _read(database) is None  # connected, warm
    started = time.monotonic()
    with Frozen(server.postmaster_pid, _backend_pid(database)), pytest.raises(ApiError) as refused:
        _read(database)
    elapsed = time.monotonic() - started

    assert refused.value.status_code == 503
    assert refused.value.headers == {"Retry-After": "5"}
    assert 0.9 < elapsed < 2.5
    assert _read(database) is None  # and back to normal once the server runs again


def test_a_frozen_server_answers_503_within_the_connect_timeout_on_a_new_connection(server: Server) -> None:
    database = _database(server, DATABASE_CONNECT_TIMEOUT="2")  # libpq's least
    started = time.monotonic()
    with Frozen(server.postmaster_pid), pytest.raises(ApiError) as refused:
        _read(database)

    assert refused.value.status_code == 503
    assert time.monotonic() - started < 3  # a failed connect is not tried again


def test_the_dispatcher_leaves_its_message_for_a_retry_when_the_server_is_frozen(server: Server) -> None:
    database = _database(server, DATABASE_REQUEST_DEADLINE_MS="1000")
    assert _read(database) is None
    events = Path(__file__).resolve().parent.parent / "events"
    body = json.loads((events / "job_dispatcher.json").read_text())["Records"][0]["body"]  # a valid message
    started = time.monotonic()
    with Frozen(server.postmaster_pid, _backend_pid(database)), pytest.raises(ApiError):
        job_dispatch.dispatch(database, body)  # raises: the record is reported failed, SQS delivers again

    assert time.monotonic() - started < 2.5


def test_the_default_deadline_answers_well_inside_the_functions_timeout() -> None:
    settings = DatabaseSettings.from_env({"DATABASE_URL": "postgresql://x@y/z"})
    assert settings.request_deadline_ms == 5000
    assert settings.connect_timeout_s <= 3


def test_after_the_server_ends_a_connection_the_next_request_succeeds_on_a_new_one(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    database = _database(server)
    assert _read(database) is None
    old = _backend_pid(database)
    with psycopg.connect(server.owner_url, autocommit=True) as owner:
        owner.execute("select pg_terminate_backend(%s)", (old,))  # what a restart or failover does to it
        while owner.execute("select 1 from pg_stat_activity where pid = %s", (old,)).fetchone():
            time.sleep(0.01)

    caplog.clear()

    assert _read(database) is None

    assert _backend_pid(database) != old
    messages = [r.getMessage() for r in caplog.records]
    # Replaced before the request sent anything: no read failed and had to be read again.
    assert "database connection gone while idle; opening a new one" in messages
    assert not [m for m in messages if "reading again" in m]
    assert [r for r in caplog.records if r.levelname == "ERROR"] == []


def test_a_read_whose_connection_dies_unnoticed_is_read_again_once_on_a_new_one(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline import database as database_module

    database = _database(server)
    assert _read(database) is None
    old = _backend_pid(database)
    monkeypatch.setattr(database_module, "_usable", lambda conn: True)  # as if it had said no goodbye
    with psycopg.connect(server.owner_url, autocommit=True) as owner:
        owner.execute("select pg_terminate_backend(%s)", (old,))

    assert _read(database) is None

    assert _backend_pid(database) != old


def test_a_read_is_not_tried_a_third_time(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    database = _database(server)
    assert _read(database) is None  # an open connection: the first failure is worth a second try
    attempts: list[int] = []

    def failing(conn: Any) -> Any:
        attempts.append(conn.info.backend_pid)
        raise psycopg.OperationalError("connection lost")

    with pytest.raises(ApiError) as refused:
        database.read(uuid.uuid4(), failing)

    assert refused.value.status_code == 503
    assert len(attempts) == 2
    assert attempts[0] != attempts[1]  # the second on a new connection

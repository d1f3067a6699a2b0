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
from psycopg.rows import DictRow, dict_row

from local.local_database import APP_ROLE, WORKER_ROLE, url_for_role
from pipeline.catalog.configuration import CreateJobRequest
from pipeline.datasets import repository as datasets_repository
from pipeline.db.database import Database, DatabaseSettings
from pipeline.db.migrate import migrate
from pipeline.errors import DatabaseUnavailable
from pipeline.http.errors import for_domain_error
from pipeline.jobs import creation as job_creation
from pipeline.jobs import repository as jobs_repository
from pipeline.workers import dispatch as job_dispatch
from tests.factories import create_body, insert_dataset
from tests.paths import REPO_ROOT


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
        self.worker_url = url_for_role(self.owner_url, WORKER_ROLE)

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


_opened: list[Database] = []


@pytest.fixture(autouse=True)
def _close_databases() -> Iterator[None]:
    yield
    while _opened:
        _opened.pop().close()


def _database(server: Server, *, role_url: str | None = None, **settings: str) -> Database:
    database = Database(DatabaseSettings.from_env({"DATABASE_URL": role_url or server.app_url, **settings}))
    _opened.append(database)
    return database


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
    with Frozen(server.postmaster_pid, _backend_pid(database)), pytest.raises(DatabaseUnavailable) as refused:
        _read(database)
    elapsed = time.monotonic() - started

    assert for_domain_error(refused.value).status_code == 503
    assert for_domain_error(refused.value).headers == {"Retry-After": "5"}
    assert 0.9 < elapsed < 2.5
    assert _read(database) is None  # and back to normal once the server runs again


def test_a_frozen_server_answers_503_within_the_connect_timeout_on_a_new_connection(server: Server) -> None:
    database = _database(server, DATABASE_CONNECT_TIMEOUT="2")  # libpq's least
    started = time.monotonic()
    with Frozen(server.postmaster_pid), pytest.raises(DatabaseUnavailable) as refused:
        _read(database)

    assert for_domain_error(refused.value).status_code == 503
    assert time.monotonic() - started < 3  # a failed connect is not tried again


def test_the_dispatcher_leaves_its_message_for_a_retry_when_the_server_is_frozen(server: Server) -> None:
    database = _database(server, role_url=server.worker_url, DATABASE_REQUEST_DEADLINE_MS="1000")
    assert _read(database) is None
    events = REPO_ROOT / "events"
    body = json.loads((events / "job_dispatcher.json").read_text())["Records"][0]["body"]  # a valid message
    started = time.monotonic()
    with Frozen(server.postmaster_pid, _backend_pid(database)), pytest.raises(DatabaseUnavailable):
        # Raises: the record is reported failed, SQS delivers it again.
        job_dispatch.dispatch(
            database, body, _Publisher(), "pipeline-artifacts-local", "pipeline-datasets-local"
        )

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
    from pipeline.db import database as database_module

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

    with pytest.raises(DatabaseUnavailable) as refused:
        database.read(uuid.uuid4(), failing)

    assert for_domain_error(refused.value).status_code == 503
    assert len(attempts) == 2
    assert attempts[0] != attempts[1]  # the second on a new connection


# ---- create: the outcome is never ambiguous ---------------------------------------------------------


class _Publisher:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def publish(self, *, body: str, message_type: str, version: int, job_id: uuid.UUID | None = None) -> None:
        self.sent.append(body)


@pytest.fixture
def owner(server: Server) -> Iterator[psycopg.Connection[DictRow]]:
    with psycopg.connect(server.owner_url, autocommit=True, row_factory=dict_row) as conn:
        # This session's commits never wait for a standby, whatever the server's settings are
        # (pg_reload_conf reaches sessions only at their next command, so the server's default could lag).
        conn.execute("set synchronous_commit = local")
        yield conn
        conn.execute("delete from idempotency_keys")
        conn.execute("delete from job_queue_outbox")
        conn.execute("delete from lora_notifications")
        conn.execute("delete from lora_training_jobs")
        conn.execute("delete from lora_datasets")


@pytest.fixture
def commits_wait_for_a_missing_standby(server: Server, owner: psycopg.Connection[DictRow]) -> Iterator[None]:
    """The functions' COMMITs wait for a synchronous standby that does not exist, so a test can end the
    connection while it waits in COMMIT: the job is committed locally, and the client hears nothing."""
    owner.execute("alter system set synchronous_commit = local")  # everyone else's commits do not wait
    owner.execute("alter system set synchronous_standby_names = 'missing_standby'")
    owner.execute("select pg_reload_conf()")
    owner.execute(f"alter role {APP_ROLE} set synchronous_commit = on")
    yield
    owner.execute(f"alter role {APP_ROLE} reset synchronous_commit")
    owner.execute("alter system reset synchronous_standby_names")
    owner.execute("alter system reset synchronous_commit")
    owner.execute("select pg_reload_conf()")


class Terminator:
    """Ends, from another connection, each of the functions' backends seen waiting on `wait_event`,
    at most `times` times, while the block runs."""

    def __init__(self, server: Server, wait_event: str, times: int = 1_000) -> None:
        self._url, self._event, self._times = server.owner_url, wait_event, times
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.ended = 0

    def _run(self) -> None:
        with psycopg.connect(self._url, autocommit=True) as conn:
            while not self._stop.is_set() and self.ended < self._times:
                for (pid,) in conn.execute(
                    "select pid from pg_stat_activity where usename = %s and wait_event = %s",
                    (APP_ROLE, self._event),
                ).fetchall():
                    conn.execute("select pg_terminate_backend(%s)", (pid,))
                    self.ended += 1
                time.sleep(0.005)

    def __enter__(self) -> "Terminator":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def _create(server: Server, owner: psycopg.Connection[DictRow], key: str | None = None) -> Any:
    user = uuid.uuid4()
    dataset_id = insert_dataset(owner, user_id=user)
    request = CreateJobRequest.model_validate(create_body(dataset_id))
    publisher = _Publisher()
    database = _database(server, DATABASE_REQUEST_DEADLINE_MS="3000")
    return job_creation.create_job(database, user, request, publisher, idempotency_key=key), publisher


def test_a_job_committed_while_its_connection_was_lost_is_answered_as_created(
    server: Server, owner: psycopg.Connection[DictRow], commits_wait_for_a_missing_standby: None
) -> None:
    with Terminator(server, "SyncRep") as ended:
        created, publisher = _create(server, owner, key="k-1")

    assert ended.ended >= 1
    assert created.replayed is False
    rows = owner.execute("select id, estimated_total_cost from lora_training_jobs").fetchall()
    assert rows == [{"id": created.job.id, "estimated_total_cost": created.job.estimated_total_cost}]
    # Its message is in the outbox, committed with it: the relay sends it.
    outbox = owner.execute("select job_id, sent_at from job_queue_outbox").fetchall()
    assert outbox == [{"job_id": created.job.id, "sent_at": None}]
    assert publisher.sent == []


def test_a_commit_interrupted_before_it_happened_answers_503_and_creates_nothing(
    server: Server, owner: psycopg.Connection[DictRow], caplog: pytest.LogCaptureFixture
) -> None:
    # The job's insert waits for a lock on its dataset's row; the connection is ended while it waits,
    # with the COMMIT already sent behind it.
    user = uuid.uuid4()
    dataset_id = insert_dataset(owner, user_id=user)
    request = CreateJobRequest.model_validate(create_body(dataset_id))
    database = _database(server)
    with owner.transaction():
        owner.execute("select 1 from lora_datasets where id = %s for update", (dataset_id,))
        with Terminator(server, "transactionid", times=1), pytest.raises(DatabaseUnavailable) as refused:
            job_creation.create_job(database, user, request, _Publisher())

    assert for_domain_error(refused.value).status_code == 503
    assert type(refused.value) is DatabaseUnavailable  # a plain 503: nothing was created
    assert for_domain_error(refused.value).details is None
    assert owner.execute("select count(*) as n from lora_training_jobs").fetchone() == {"n": 0}
    # Known, not guessed: the job was looked up on a new connection and is not there.
    assert "commit interrupted; the job was not created" in [r.getMessage() for r in caplog.records]


def test_when_even_the_lookup_fails_the_503_says_the_outcome_is_unknown_and_to_retry_with_the_key(
    server: Server,
    owner: psycopg.Connection[DictRow],
    commits_wait_for_a_missing_standby: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unreachable(*args: Any, **kwargs: Any) -> Any:
        raise psycopg.OperationalError("connection refused")

    monkeypatch.setattr(jobs_repository, "get_for_user", unreachable)
    with Terminator(server, "SyncRep"), pytest.raises(DatabaseUnavailable) as refused:
        _create(server, owner, key="k-2")

    assert for_domain_error(refused.value).status_code == 503
    answer = for_domain_error(refused.value)
    assert answer.headers == {"Retry-After": "5"}
    assert "whether it was created is unknown" in answer.details
    assert "Retry with the same Idempotency-Key" in answer.details


def test_a_connection_lost_before_the_commit_was_sent_creates_the_job_once_on_a_new_connection(
    server: Server, owner: psycopg.Connection[DictRow]
) -> None:
    # The first round trip (the reads) waits for a lock, and its connection is ended there: nothing was
    # committed, so the transaction runs again and creates the job.
    user = uuid.uuid4()
    dataset_id = insert_dataset(owner, user_id=user)
    request = CreateJobRequest.model_validate(create_body(dataset_id))
    database = _database(server)
    holder = psycopg.connect(server.owner_url, autocommit=True)
    holder.execute("begin")
    holder.execute("lock table lora_datasets in access exclusive mode")

    def release_after_the_first_end(terminator: Terminator) -> None:
        while terminator.ended == 0:
            time.sleep(0.005)
        holder.execute("commit")

    with Terminator(server, "relation", times=1) as ended:
        releaser = threading.Thread(target=release_after_the_first_end, args=(ended,))
        releaser.start()
        created = job_creation.create_job(database, user, request, _Publisher())
        releaser.join(timeout=10)
    holder.close()

    assert ended.ended == 1
    assert owner.execute("select id from lora_training_jobs").fetchall() == [{"id": created.job.id}]

"""One PostgreSQL connection per execution environment, reused across invocations.

Lambda runs one request at a time per environment, so a single connection (not a pool) is right; it
is opened on first use, not at import, so a database outage fails requests (DatabaseUnavailable: a
503 for the API, a retry for a queue consumer) rather than the function's start.

What keeps a request from hanging on, or failing for, a connection gone bad:
- a deadline per request (pipeline.db.request_deadline), with libpq's connect timeout, TCP keepalives and
  tcp_user_timeout: a frozen server or a dead network path fails within the deadline;
- a connection found gone before a request sends anything on it (the server restarted or failed over:
  it said goodbye, so the idle socket is readable) is replaced first, not discovered by a failure;
- reads (Database.read) that lose their connection at any point are read again, once, on a new one.
A connection that failed is dropped; the next request opens a new one. So is one on which a statement
failed on the server (a bug's 500): psycopg may then hold the name of a prepared statement the server
never parsed (its Parse was skipped in the aborted pipeline), and every later use of that statement on
the connection would fail.
"""

import select
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, Generic, Literal, NoReturn, Self, TypeVar
from uuid import UUID

import psycopg
from psycopg.rows import DictRow, dict_row
from pydantic import Field, model_validator

from pipeline.aws.secrets import DatabaseSecret, SecretUnavailable
from pipeline.db.request_deadline import RequestDeadline
from pipeline.errors import ConnectionLost, DatabaseUnavailable
from pipeline.runtime.observability import logger
from pipeline.runtime.settings import EnvSettings

Connection = psycopg.Connection[DictRow]
T = TypeVar("T")


class DatabaseSettings(EnvSettings):
    # Locally a URI; in AWS a Secrets Manager secret whose JSON has "url" (rotation-safe).
    database_url: str | None = Field(default=None, alias="DATABASE_URL", pattern=r"^postgres(ql)?://")
    database_secret_arn: str | None = Field(
        default=None, alias="DATABASE_SECRET_ARN", pattern=r"^arn:aws[a-z-]*:secretsmanager:"
    )
    # How the secret is read: the Parameters and Secrets extension, or botocore (SnapStart functions).
    secret_reader: Literal["extension", "sdk"] = Field(default="extension", alias="DATABASE_SECRET_READER")
    secret_max_age_s: int = Field(default=300, alias="DATABASE_SECRET_MAX_AGE_SECONDS", ge=0)
    secrets_extension_port: int = Field(default=2773, alias="PARAMETERS_SECRETS_EXTENSION_HTTP_PORT")
    # Seconds to wait for a connection, and milliseconds any statement may run: a stuck database
    # must answer 503 quickly, well inside the Lambda timeout.
    connect_timeout_s: int = Field(default=3, alias="DATABASE_CONNECT_TIMEOUT", ge=1, le=30)
    statement_timeout_ms: int = Field(default=5000, alias="DATABASE_STATEMENT_TIMEOUT_MS", ge=100)
    # The most a request waits on the database, enforced here (pipeline.db.request_deadline): a frozen
    # server enforces no statement timeout. Well inside the functions' 10 s Lambda timeout.
    request_deadline_ms: int = Field(default=5000, alias="DATABASE_REQUEST_DEADLINE_MS", ge=100, le=60_000)
    # TLS to the database: libpq's sslmode. The template sets require; unset, libpq's default (prefer).
    sslmode: str | None = Field(
        default=None,
        alias="DATABASE_SSLMODE",
        pattern=r"^(disable|allow|prefer|require|verify-ca|verify-full)$",
    )
    # Behind RDS Proxy, server-side prepared statements pin each client to one database connection.
    behind_proxy: bool = Field(default=False, alias="DATABASE_BEHIND_PROXY")

    @model_validator(mode="after")
    def _has_a_database(self) -> Self:
        if self.database_url is None and self.database_secret_arn is None:
            raise ValueError("environment variable DATABASE_URL (or DATABASE_SECRET_ARN) is not set")
        return self


class Database:
    def __init__(self, settings: DatabaseSettings) -> None:
        self._settings = settings
        self._connection: Connection | None = None
        self._deadline = RequestDeadline(settings.request_deadline_ms / 1000)
        self._secret = (
            DatabaseSecret(
                settings.database_secret_arn,
                reader=settings.secret_reader,
                port=settings.secrets_extension_port,
                max_age_s=settings.secret_max_age_s,
            )
            if settings.database_url is None and settings.database_secret_arn is not None
            else None
        )

    def _connect(self) -> Connection:
        if self._secret is None:
            assert self._settings.database_url is not None  # the settings demand one or the other
            return self._open(self._settings.database_url)
        try:
            return self._open(self._secret.database_url())
        except psycopg.OperationalError as exc:
            if "FATAL:" not in str(exc):
                raise  # unreachable, not refused: the credentials are not the problem
            # The server refused the login: the password may have been rotated since it was cached.
            logger.info("database refused the login; fetching its secret again")
            return self._open(self._secret.database_url(refresh=True))

    def _open(self, url: str) -> Connection:
        connection = psycopg.connect(
            url,
            # Transactions are explicit (tenant_transaction); reads run as pipelined implicit ones.
            autocommit=True,
            row_factory=dict_row,
            connect_timeout=self._settings.connect_timeout_s,
            options=f"-c statement_timeout={self._settings.statement_timeout_ms} -c timezone=UTC",
            application_name="pipeline-training-jobs",
            # A peer that stops acknowledging: idle connections probed, unacknowledged data given up on.
            keepalives=1,
            keepalives_idle=10,
            keepalives_interval=2,
            keepalives_count=2,
            tcp_user_timeout=self._settings.request_deadline_ms,
            **self._tls(),
        )
        if self._settings.behind_proxy:
            connection.prepare_threshold = None  # never prepare: prepared statements pin proxy sessions
        return connection

    def _tls(self) -> dict[str, Any]:
        return {"sslmode": self._settings.sslmode} if self._settings.sslmode else {}

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """Yield the environment's connection, under the request deadline; a database failure becomes
        DatabaseUnavailable."""
        try:
            with self._raw_connection() as conn:
                yield conn
        except (psycopg.OperationalError, SecretUnavailable):
            self._unavailable()

    def _unavailable(self) -> NoReturn:
        # Connection refused, lost, a statement timed out, a deadline passed, or no credentials.
        self._log_unavailable()
        self.close()
        raise DatabaseUnavailable() from None

    def _log_unavailable(self) -> None:
        if self._deadline.expired:
            logger.error("database request overran its deadline", deadline_s=self._deadline.seconds)
        else:
            logger.exception("database unavailable")

    @contextmanager
    def _raw_connection(self) -> Iterator[Connection]:
        if self._connection is not None and not _usable(self._connection):
            logger.info("database connection gone while idle; opening a new one")
            self.close()
        if self._connection is None:
            self._connection = self._connect()
        with self._deadline.guarding(self._connection.fileno()):
            yield self._connection

    def read(
        self, user_id: UUID, queue: Callable[[Connection], Callable[[], T]], *, one_snapshot: bool = False
    ) -> T:
        """Reads in which row level security shows only `user_id`'s rows, from one snapshot, in one
        round trip; read again once on a new connection if the connection fails at any point.

        `queue(conn)` queues the statements and returns what collects their results (Deferred.result),
        called after the pipeline's Sync, so the Sync travels with the queries; a result read inside
        `queue` would cost a round trip more. With `one_snapshot` (more than one query that must agree:
        a page and its total, while jobs are written) they run in a read-only REPEATABLE READ
        transaction, its BEGIN and COMMIT pipelined with them (no round trips of their own); a single
        query needs no more than the implicit transaction the pipeline gives it. Either way the
        transaction-local tenant setting ends with the reads. Were it ever lost, row level security
        would show no rows at all, never someone else's. Reads change nothing, so reading again is
        always safe; a deadline that passed is not retried (it already took its time), nor a connection
        just opened."""
        for attempt in (1, 2):
            reused = self._connection is not None  # a connection just opened and failing is not stale
            try:
                with self._raw_connection() as conn:
                    with self._reads(conn, user_id, one_snapshot=one_snapshot):
                        collect = queue(conn)
                    return collect()
            except psycopg.OperationalError:
                if attempt == 2 or self._deadline.expired or not reused:
                    self._unavailable()
                logger.info("database connection lost during a read; reading again on a new one")
                self.close()
            except SecretUnavailable:
                self._unavailable()
            except psycopg.Error:
                self.close()  # see the module's docstring: its prepared statements can't be trusted
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    @contextmanager
    def _reads(self, conn: Connection, user_id: UUID, *, one_snapshot: bool) -> Iterator[None]:
        if not one_snapshot:
            # One query: everything up to the pipeline's Sync is one implicit transaction, which the
            # transaction-local tenant setting covers and ends with (no BEGIN/COMMIT to execute).
            with conn.pipeline():
                _set_tenant(conn, user_id)
                yield
            return
        try:
            with conn.pipeline():
                conn.execute("begin isolation level repeatable read, read only")
                _set_tenant(conn, user_id)
                try:
                    yield
                except BaseException:
                    with suppress(psycopg.Error):
                        conn.execute("rollback")
                    raise
                conn.execute("commit")
        finally:
            if not conn.closed and conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                conn.execute("rollback")

    @contextmanager
    def tenant_transaction(self, user_id: UUID) -> Iterator[Connection]:
        """A read-write transaction as `user_id`, pipelined: statements queued before a read travel in
        one round trip, and the writes queued last travel with the COMMIT.

        BEGIN/COMMIT/ROLLBACK are sent as ordinary pipelined statements: psycopg's transaction blocks
        would add a synchronising round trip around each of them. A Python exception queues ROLLBACK
        behind whatever was queued, so nothing of a failed request is ever committed. A lost connection
        raises ConnectionLost, saying whether the COMMIT had been sent: if not, nothing was committed
        and the caller may run the transaction again; if so, the outcome is unknown until looked up.
        """
        commit_sent = False
        try:
            with self._raw_connection() as conn:
                try:
                    with conn.pipeline():
                        conn.execute("begin")
                        _set_tenant(conn, user_id)
                        try:
                            yield conn
                        except BaseException:
                            # Best effort: after a server error the pipeline refuses new statements,
                            # and the rollback below ends the aborted transaction instead.
                            with suppress(psycopg.Error):
                                conn.execute("rollback")
                            raise
                        conn.execute("commit")
                        commit_sent = True  # queued: it travels with the pipeline's Sync, next
                finally:
                    # A statement that failed on the server leaves the transaction aborted: end it
                    # here, so the connection is clean for the next request.
                    if not conn.closed and conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                        conn.execute("rollback")
        except psycopg.OperationalError:
            self._log_unavailable()
            self.close()
            raise ConnectionLost(commit_sent=commit_sent) from None
        except SecretUnavailable:
            self._unavailable()
        except psycopg.Error:
            self.close()  # see the module's docstring: its prepared statements can't be trusted
            raise

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def release(self) -> None:
        """Hold nothing of this environment's: before a SnapStart snapshot. Both come back on next use."""
        self.close()
        if self._secret is not None:
            self._secret.forget()


def _usable(conn: Connection) -> bool:
    """Whether an idle connection is still there, without a round trip: the server sends nothing unasked
    to an idle session but its goodbye (shutdown, failover, terminated backend), so a readable socket
    means the connection is going or gone."""
    if conn.closed or conn.broken:
        return False
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
    return not poller.poll(0)


def _set_tenant(conn: Connection, user_id: UUID) -> None:
    # Transaction-local (true): it can never outlive this request's transaction.
    conn.execute("select set_config('app.user_id', %s, true)", (str(user_id),))


class Deferred(Generic[T]):
    """A statement's result, read later: in pipeline mode, statements queued before the first read
    travel to the server together, so a batch of them costs one round trip."""

    def __init__(self, cursor: psycopg.Cursor[DictRow], convert: Callable[[DictRow | None], T]) -> None:
        self._cursor = cursor
        self._convert = convert

    def result(self) -> T:
        return self._convert(self._cursor.fetchone())


class DeferredRows(Generic[T]):
    """Every row of a statement's result, read later (see Deferred)."""

    def __init__(self, cursor: psycopg.Cursor[DictRow], convert: Callable[[DictRow], T]) -> None:
        self._cursor = cursor
        self._convert = convert

    def result(self) -> list[T]:
        return [self._convert(row) for row in self._cursor.fetchall()]

"""One PostgreSQL connection per execution environment, reused across invocations.

Lambda runs one request at a time per environment, so a single connection (not a pool) is right; it
is opened on first use, not at import, so a database outage fails requests with 503 rather than the
function's start. A connection found broken is dropped and the next request opens a new one.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

import psycopg
from psycopg.rows import DictRow, dict_row

from pipeline.errors import service_unavailable
from pipeline.observability import logger
from pipeline.settings import DatabaseSettings

Connection = psycopg.Connection[DictRow]


class Database:
    def __init__(self, settings: DatabaseSettings) -> None:
        self._settings = settings
        self._connection: Connection | None = None

    def _connect(self) -> Connection:
        return psycopg.connect(
            self._settings.database_url,
            # Reads need no BEGIN/COMMIT round trips; writes use explicit `conn.transaction()` blocks.
            autocommit=True,
            row_factory=dict_row,
            connect_timeout=self._settings.connect_timeout_s,
            options=f"-c statement_timeout={self._settings.statement_timeout_ms} -c timezone=UTC",
            application_name="pipeline-training-jobs",
        )

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """Yield the environment's connection; a database failure becomes 503 Service unavailable."""
        try:
            if self._connection is None or self._connection.closed:
                self._connection = self._connect()
            yield self._connection
        except psycopg.OperationalError:
            # Connection refused, lost, or a statement timed out: the client may retry later.
            logger.exception("database unavailable")
            self.close()
            raise service_unavailable() from None

    @contextmanager
    def tenant_transaction(self, user_id: UUID) -> Iterator[Connection]:
        """A transaction in which row level security shows only `user_id`'s rows.

        The setting is transaction-local, so it can never leak into the next request's work.
        """
        with self.connection() as conn, conn.transaction():
            conn.execute("select set_config('app.user_id', %s, true)", (str(user_id),))
            yield conn

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

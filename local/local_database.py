"""The local stack's PostgreSQL: DATABASE_URL when set, else an embedded server whose data survives
restarts in the state folder. Either way the migrations are applied before anything uses it.
"""

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.migrate import migrate

log = logging.getLogger("pipeline.local")


@contextmanager
def running_database(state: Path) -> Iterator[str]:
    """Yield a migrated database URL; an embedded server started here is stopped on exit."""
    url = os.environ.get("DATABASE_URL")
    if url:
        migrate(url)
        yield url
        return
    import pgserver  # only needed for the embedded default

    # pgserver counts the processes using a data folder and stops the server with the last one, so
    # `make dataset` can share the server `make run` started, or start (and stop) its own.
    server = pgserver.get_server(state / "pgdata", cleanup_mode="stop")  # type: ignore[attr-defined]
    try:
        url = str(server.get_uri())
        applied = migrate(url)
        if applied:
            log.info("applied migrations: %s", ", ".join(applied))
        yield url
    finally:
        server.cleanup()

"""The local stack's PostgreSQL: DATABASE_URL when set, else an embedded server whose data survives
restarts in the state folder. Either way the migrations are applied (as the owner) before anything
uses it, and the functions connect as the migrations' application role, as they do in AWS.
"""

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from pipeline.db.migrate import migrate

log = logging.getLogger("pipeline.local")

# Created by migrations 0003 and 0006: own nothing, cannot bypass row level security.
APP_ROLE: Final = "pipeline_app"  # the HTTP functions
WORKER_ROLE: Final = "pipeline_worker"  # the outbox relay and the jobs-queue dispatcher


def url_for_role(url: str, role: str) -> str:
    """The same server and database, logged in as `role` (no password: trust or peer auth locally)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{role}@{host}").geturl()


@dataclass(frozen=True)
class DatabaseUrls:
    owner: str  # migrates and seeds
    app: str  # what the HTTP functions use
    worker: str  # what the relay and the dispatcher use

    def by_secret_parameter(self) -> dict[str, str]:
        """The template's secret parameters, each with the local URL of the role it names."""
        return {"DatabaseSecretArn": self.app, "WorkerDatabaseSecretArn": self.worker}


def _urls(owner: str) -> DatabaseUrls:
    return DatabaseUrls(
        owner=owner,
        app=os.environ.get("APP_DATABASE_URL") or url_for_role(owner, APP_ROLE),
        worker=os.environ.get("WORKER_DATABASE_URL") or url_for_role(owner, WORKER_ROLE),
    )


@contextmanager
def running_database(state: Path) -> Iterator[DatabaseUrls]:
    """Yield the migrated database's URLs; an embedded server started here is stopped on exit."""
    url = os.environ.get("DATABASE_URL")
    if url:
        migrate(url)
        yield _urls(url)
        return
    import pgserver  # only needed for the embedded default

    # pgserver counts the processes using a data folder and stops the server with the last one, so
    # `make dataset` can share the server `make run` started, or start (and stop) its own.
    data = state / "pgdata"
    log.info("embedded PostgreSQL: %s %s", "starting from" if data.exists() else "creating", data)
    server = pgserver.get_server(data, cleanup_mode="stop")  # type: ignore[attr-defined]
    try:
        url = str(server.get_uri())
        applied = migrate(url)
        if applied:
            log.info("applied migrations: %s", ", ".join(applied))
        yield _urls(url)
    finally:
        server.cleanup()

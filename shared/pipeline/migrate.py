"""Apply the SQL migrations in shared/pipeline/migrations, in order, each once.

    PYTHONPATH=shared python -m pipeline.migrate      (reads DATABASE_URL)

Each file runs in its own transaction and is recorded in schema_migrations with its checksum; a file
already applied is skipped, and one edited after it was applied is an error (write a new migration).
An advisory lock makes concurrent runs (two deploys) wait for each other instead of racing.
"""

import hashlib
import os
import sys
from importlib import resources
from typing import NamedTuple

import psycopg
from pydantic import Field

from pipeline.settings import ConfigurationError, DatabaseSettings, EnvSettings

_LOCK_KEY = 0x70697065  # any constant shared by every runner: "pipe"


class MigrationSettings(EnvSettings):
    # The schema owner's connection: only the migrate custom resource has it.
    database_url: str = Field(alias="MIGRATION_DATABASE_URL", pattern=r"^postgres(ql)?://")


class MigrationError(RuntimeError):
    pass


class Migration(NamedTuple):
    filename: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations() -> list[Migration]:
    folder = resources.files("pipeline") / "migrations"
    files = sorted(
        entry.name for entry in folder.iterdir() if entry.name.endswith(".sql") and entry.name[:4].isdigit()
    )
    return [Migration(name, (folder / name).read_text(encoding="utf-8")) for name in files]


def migrate(database_url: str, *, lock_timeout_s: float | None = None) -> list[str]:
    """Apply pending migrations; return the filenames applied by this call.

    lock_timeout_s bounds the wait for another migrator (and for table locks): a deploy must fail
    rather than outlive the function that runs it.
    """
    applied_now: list[str] = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        if lock_timeout_s is not None:
            conn.execute("select set_config('lock_timeout', %s, false)", (f"{int(lock_timeout_s * 1000)}ms",))
        conn.execute("select pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            conn.execute(
                "create table if not exists schema_migrations ("
                " filename text primary key, checksum text not null,"
                " applied_at timestamptz not null default now())"
            )
            rows = conn.execute("select filename, checksum from schema_migrations").fetchall()
            recorded: dict[str, str] = {filename: checksum for filename, checksum in rows}
            for migration in load_migrations():
                if migration.filename in recorded:
                    if recorded[migration.filename] != migration.checksum:
                        raise MigrationError(
                            f"{migration.filename} was changed after it was applied; add a new migration"
                        )
                    continue
                with conn.transaction():
                    # No parameters: psycopg sends the file with the simple protocol, several statements.
                    conn.execute(migration.sql.encode())
                    conn.execute(
                        "insert into schema_migrations (filename, checksum) values (%s, %s)",
                        (migration.filename, migration.checksum),
                    )
                applied_now.append(migration.filename)
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return applied_now


def main() -> int:
    try:
        # The owner migrates, with an explicit URI (never the functions' secret).
        url = os.environ.get("DATABASE_URL", "")
        if not url:
            raise ConfigurationError("environment variable DATABASE_URL is not set")
        settings = DatabaseSettings.from_env({"DATABASE_URL": url})
        assert settings.database_url is not None
        applied = migrate(settings.database_url)
    except (ConfigurationError, MigrationError) as exc:
        print(f"migrate: {exc}", file=sys.stderr)
        return 1
    print(f"migrate: applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())

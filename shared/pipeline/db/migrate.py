"""Apply the SQL migrations in shared/pipeline/db/migrations, in order, each once.

    PYTHONPATH=shared python -m pipeline.db.migrate      (reads DATABASE_URL)

Each file runs in its own transaction and is recorded in schema_migrations with its checksum; a file
already applied is skipped, and one edited after it was applied is an error (write a new migration).
An advisory lock makes concurrent runs (two deploys) wait for each other instead of racing.
"""

import hashlib
import os
import sys
from importlib import resources
from typing import Literal, NamedTuple, Self

import psycopg
from pydantic import Field, model_validator

from pipeline.aws.secrets import DatabaseSecret
from pipeline.db.database import DatabaseSettings
from pipeline.runtime.settings import ConfigurationError, EnvSettings

_LOCK_KEY = 0x70697065  # any constant shared by every runner: "pipe"


class MigrationSettings(EnvSettings):
    # The schema owner's connection: only the migrate custom resource has it. Locally a URI; in AWS a
    # Secrets Manager secret whose JSON has "url", read when the resource runs.
    database_url: str | None = Field(
        default=None, alias="MIGRATION_DATABASE_URL", pattern=r"^postgres(ql)?://"
    )
    database_secret_arn: str | None = Field(
        default=None, alias="MIGRATION_DATABASE_SECRET_ARN", pattern=r"^arn:aws[a-z-]*:secretsmanager:"
    )
    secret_reader: Literal["extension", "sdk"] = Field(default="extension", alias="DATABASE_SECRET_READER")

    @model_validator(mode="after")
    def _has_a_database(self) -> Self:
        if self.database_url is None and self.database_secret_arn is None:
            raise ValueError(
                "environment variable MIGRATION_DATABASE_URL (or MIGRATION_DATABASE_SECRET_ARN) is not set"
            )
        return self

    def owner_url(self) -> str:
        if self.database_url is not None:
            return self.database_url
        assert self.database_secret_arn is not None
        return DatabaseSecret(self.database_secret_arn, reader=self.secret_reader).database_url()


class MigrationError(RuntimeError):
    pass


class Migration(NamedTuple):
    filename: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations() -> list[Migration]:
    folder = resources.files("pipeline.db") / "migrations"
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

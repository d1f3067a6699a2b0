"""`python -m pipeline.db.migrate`: each migration applied once, in order; edits to applied files refused."""

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import psycopg
import pytest

from pipeline.db import migrate as migrate_module
from pipeline.db.migrate import Migration, MigrationError, load_migrations, migrate
from tests.paths import REPO_ROOT
from tests.services import owner_database_url

ROOT = REPO_ROOT


@pytest.fixture
def empty_database() -> Iterator[str]:
    """A new, empty database on the test server."""
    test_url = owner_database_url()
    name = f"pipeline_migrate_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(test_url, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    yield urlsplit(test_url)._replace(path=f"/{name}").geturl()
    with psycopg.connect(test_url, autocommit=True) as admin:
        admin.execute(f'drop database "{name}" with (force)')


def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("select tablename from pg_tables where schemaname = 'public'").fetchall()
    return {row[0] for row in rows}


def test_migrations_are_numbered_and_loaded_in_order() -> None:
    names = [migration.filename for migration in load_migrations()]
    assert names == sorted(names)
    assert names[0] == "0001_initial_schema.sql"


def test_migrate_creates_the_schema_then_does_nothing_the_second_time(empty_database: str) -> None:
    assert migrate(empty_database) == [migration.filename for migration in load_migrations()]
    assert {"lora_datasets", "lora_training_jobs", "lora_notifications", "job_queue_outbox"} <= _tables(
        empty_database
    )

    assert migrate(empty_database) == []


def test_migration_edited_after_it_was_applied_is_refused(
    empty_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrate(empty_database)
    edited = [Migration(m.filename, m.sql + "\n-- edited") for m in load_migrations()]
    monkeypatch.setattr(migrate_module, "load_migrations", lambda: edited)

    with pytest.raises(MigrationError, match=r"0001_initial_schema\.sql was changed after it was applied"):
        migrate(empty_database)


def test_failing_migration_is_rolled_back_and_not_recorded(
    empty_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = [
        *load_migrations(),
        Migration("9999_broken.sql", "create table half_done (id int); select 1/0;"),
    ]
    monkeypatch.setattr(migrate_module, "load_migrations", lambda: broken)

    with pytest.raises(psycopg.errors.DivisionByZero):
        migrate(empty_database)

    assert "half_done" not in _tables(empty_database)
    with psycopg.connect(empty_database) as conn:
        recorded = [row[0] for row in conn.execute("select filename from schema_migrations").fetchall()]
    assert "9999_broken.sql" not in recorded


def _run_cli(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.db.migrate"],
        env=env | {"PYTHONPATH": str(ROOT / "shared")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cli_applies_migrations_from_database_url(empty_database: str) -> None:
    result = _run_cli({"DATABASE_URL": empty_database, "PATH": os.environ["PATH"]})

    assert result.returncode == 0, result.stderr
    names = [migration.filename for migration in load_migrations()]
    assert result.stdout.strip() == f"migrate: applied {len(names)} migration(s): {', '.join(names)}"
    assert _run_cli({"DATABASE_URL": empty_database}).stdout.strip() == "migrate: applied 0 migration(s)"


def test_cli_without_database_url_names_the_missing_variable() -> None:
    result = _run_cli({})

    assert result.returncode == 1
    assert result.stderr.strip() == "migrate: environment variable DATABASE_URL is not set"


def test_main_applies_the_migrations_and_reports_them_in_process(
    empty_database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", empty_database)

    assert migrate_module.main() == 0
    assert capsys.readouterr().out.startswith(
        f"migrate: applied {len(load_migrations())} migration(s): 0001_"
    )
    assert migrate_module.main() == 0
    assert capsys.readouterr().out == "migrate: applied 0 migration(s)\n"


def test_main_names_a_missing_or_invalid_url(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert migrate_module.main() == 1
    assert capsys.readouterr().err == "migrate: environment variable DATABASE_URL is not set\n"
    monkeypatch.setenv("DATABASE_URL", "mysql://h/db")
    assert migrate_module.main() == 1
    assert "environment variable DATABASE_URL is invalid" in capsys.readouterr().err

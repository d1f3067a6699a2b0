"""Least privilege in the database: each caller's role may do what that caller does and nothing more.

pipeline_app (the HTTP functions) sees one tenant at a time, its outbox rows included; pipeline_worker
(the relay, the dispatcher) sees every outbox row and a job's tables only under its tenant; row level
security is forced, so even a table owner that is not a superuser sees no tenant row without the
setting. Each test connects as the role it is about.
"""

from collections.abc import Iterator
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg.rows import DictRow, dict_row

from functions.job_dispatcher import app as dispatcher_app
from functions.outbox_relay import app as relay_app
from local.local_database import APP_ROLE, WORKER_ROLE, url_for_role
from tests.factories import insert_dataset, insert_job
from tests.services import owner_database_url

FORCED_TABLES = (
    "lora_datasets",
    "lora_training_jobs",
    "lora_notifications",
    "idempotency_keys",
    "job_queue_outbox",
    "job_events",
    "job_metric_points",
    "job_checkpoints",
    "webhook_endpoints",
    "webhook_deliveries",
    "webhook_delivery_attempts",
)


def _connect(role: str) -> psycopg.Connection[DictRow]:
    return psycopg.connect(url_for_role(owner_database_url(), role), autocommit=True, row_factory=dict_row)


@pytest.fixture
def app_role() -> Iterator[psycopg.Connection[DictRow]]:
    with _connect(APP_ROLE) as conn:
        yield conn


@pytest.fixture
def worker_role() -> Iterator[psycopg.Connection[DictRow]]:
    with _connect(WORKER_ROLE) as conn:
        yield conn


def _job_with_message(db: psycopg.Connection[DictRow], user_id: UUID) -> UUID:
    job_id = insert_job(db, user_id=user_id, dataset_id=insert_dataset(db, user_id=user_id))
    db.execute(
        "insert into job_queue_outbox (job_id, message_type, message_version, body)"
        " values (%s, 't', 1, '{}')",
        (job_id,),
    )
    return job_id


def _as_tenant(conn: psycopg.Connection[DictRow], user_id: UUID) -> None:
    conn.execute("begin")
    conn.execute("select set_config('app.user_id', %s, true)", (str(user_id),))


def test_the_relay_and_the_dispatcher_connect_as_the_worker_role_the_api_as_the_app_role() -> None:
    from functions.create_job import app as create_job_app

    for module, role in ((relay_app, WORKER_ROLE), (dispatcher_app, WORKER_ROLE), (create_job_app, APP_ROLE)):
        url = module.database._settings.database_url
        assert url is not None
        with psycopg.connect(url, autocommit=True) as conn:
            row = conn.execute("select current_user").fetchone()
        assert row == (role,), module.__name__


def test_no_function_role_is_superuser_bypasses_row_level_security_or_owns_a_table(
    db: psycopg.Connection[DictRow],
) -> None:
    roles = db.execute(
        "select rolname, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb from pg_roles"
        " where rolname = any(%s) order by rolname",
        ([APP_ROLE, WORKER_ROLE],),
    ).fetchall()
    assert roles == [
        {
            "rolname": role,
            "rolsuper": False,
            "rolbypassrls": False,
            "rolcreaterole": False,
            "rolcreatedb": False,
        }
        for role in (APP_ROLE, WORKER_ROLE)
    ]
    owned = db.execute(
        "select tablename from pg_tables where schemaname = 'public' and tableowner = any(%s)",
        ([APP_ROLE, WORKER_ROLE],),
    ).fetchall()
    assert owned == []


def test_the_app_role_sees_only_the_current_tenants_outbox_rows(
    db: psycopg.Connection[DictRow], app_role: psycopg.Connection[DictRow]
) -> None:
    alice, bob = uuid4(), uuid4()
    alices_job, _ = _job_with_message(db, alice), _job_with_message(db, bob)

    assert app_role.execute("select count(*) as n from job_queue_outbox").fetchone() == {"n": 0}
    _as_tenant(app_role, alice)
    rows = app_role.execute("select job_id from job_queue_outbox").fetchall()
    # Bob's row is invisible, so marking "every" row sent touches Alice's only.
    marked = app_role.execute("update job_queue_outbox set sent_at = now() where sent_at is null").rowcount
    app_role.execute("commit")

    assert rows == [{"job_id": alices_job}]
    assert marked == 1
    pending = db.execute("select count(*) as n from job_queue_outbox where sent_at is null").fetchone()
    assert pending == {"n": 1}


def test_the_app_role_cannot_queue_a_message_for_another_tenants_job(
    db: psycopg.Connection[DictRow], app_role: psycopg.Connection[DictRow]
) -> None:
    alice, bob = uuid4(), uuid4()
    bobs_job = _job_with_message(db, bob)
    _as_tenant(app_role, alice)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        app_role.execute(
            "insert into job_queue_outbox (job_id, message_type, message_version, body)"
            " values (%s, 'job.cancel', 1, '{}')",
            (bobs_job,),
        )


def test_the_app_role_cannot_assign_its_own_job_to_the_workers(
    db: psycopg.Connection[DictRow], app_role: psycopg.Connection[DictRow]
) -> None:
    alice = uuid4()
    alices_job = _job_with_message(db, alice)
    _as_tenant(app_role, alice)
    # Only the dispatcher hands a job to the workers, once it has claimed it.
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        app_role.execute(
            "insert into job_queue_outbox (job_id, message_type, message_version, body, destination)"
            " values (%s, 'training_job.assigned', 1, '{}', 'worker_tasks')",
            (alices_job,),
        )


def test_the_worker_role_may_write_only_worker_messages_to_the_outbox(
    db: psycopg.Connection[DictRow], worker_role: psycopg.Connection[DictRow]
) -> None:
    job = _job_with_message(db, uuid4())
    # The dispatcher's assignments and the watchdog's stops; never a jobs-queue message.
    for destination in ("worker_tasks", "worker_control"):
        worker_role.execute(
            "insert into job_queue_outbox (job_id, message_type, message_version, body, destination)"
            " values (%s, 't', 1, '{}', %s)",
            (job, destination),
        )
    for destination in ("jobs",):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            worker_role.execute(
                "insert into job_queue_outbox (job_id, message_type, message_version, body, destination)"
                " values (%s, 't', 1, '{}', %s)",
                (job, destination),
            )


@pytest.mark.parametrize(
    "statement",
    [
        "update lora_training_jobs set estimated_total_cost = 0",  # a cancel changes status, not money
        "update lora_training_jobs set current_cost = 0",
        "update lora_training_jobs set max_cost = 1000000",  # a job's budget is set when it is created
        "delete from account_limits",
        "select * from lora_notifications",
        "update idempotency_keys set response_body = ''",
        "update job_queue_outbox set body = '{}'",  # only the mark-sent columns
        "select body from job_queue_outbox",
        "delete from job_queue_outbox",
        "select * from schema_migrations",
        "update job_events set data = '{}'",  # the feed is append-only for the API too
        "insert into job_metric_points (job_id, user_id, step, epoch) select id, user_id, 1, 0"
        " from lora_training_jobs",
        "update lora_training_jobs set gpu_seconds = 0",
        # Checkpoints are the worker's report: the API reads them and signs downloads, nothing more.
        "insert into job_checkpoints (job_id, user_id, step, epoch, object_key) select id, user_id, 1, 0, 'k'"
        " from lora_training_jobs",
        "update lora_training_jobs set artifact_key = 'users/x'",
        # Endpoints: the API may change a secret (rotation), never where an endpoint points or who owns it.
        "update webhook_endpoints set url = 'https://elsewhere.example.com/'",
        "update webhook_endpoints set user_id = gen_random_uuid()",
        # Deliveries are recorded by the delivery function: the API lists them, never edits them.
        "update webhook_deliveries set status = 'delivered'",
        "delete from webhook_deliveries",
        "insert into webhook_delivery_attempts (delivery_id, user_id, attempt, duration_ms)"
        " values (gen_random_uuid(), gen_random_uuid(), 1, 0)",
    ],
)
def test_the_app_role_may_not(app_role: psycopg.Connection[DictRow], statement: str) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        app_role.execute(statement)


def test_the_worker_role_sees_every_tenants_outbox_rows_and_no_tenants_jobs_without_its_setting(
    db: psycopg.Connection[DictRow], worker_role: psycopg.Connection[DictRow]
) -> None:
    alice, bob = uuid4(), uuid4()
    jobs = {_job_with_message(db, alice), _job_with_message(db, bob)}

    outbox = {row["job_id"] for row in worker_role.execute("select job_id from job_queue_outbox")}
    visible_jobs = worker_role.execute("select count(*) as n from lora_training_jobs").fetchone()
    _as_tenant(worker_role, alice)
    alices = worker_role.execute("select user_id from lora_training_jobs").fetchall()
    worker_role.execute("rollback")

    assert outbox == jobs
    assert visible_jobs == {"n": 0}
    assert alices == [{"user_id": alice}]


@pytest.mark.parametrize(
    "statement",
    [
        "update lora_training_jobs set estimated_total_cost = 0",  # it moves a job's status, not its price
        "update lora_training_jobs set user_id = gen_random_uuid()",
        # It assigns jobs to workers (destination worker_tasks); it never queues a job message.
        "insert into job_queue_outbox (job_id, message_type, message_version, body)"
        " values (gen_random_uuid(), 't', 1, '{}')",
        "update job_queue_outbox set body = '{}'",
        "delete from job_queue_outbox",
        "select * from idempotency_keys",
        "select * from lora_notifications",
        # It records what validation found in a dataset's file; the dataset's name, owner and file are the
        # user's, and only the API creates or deletes one.
        "update lora_datasets set name = 'x'",
        "update lora_datasets set user_id = gen_random_uuid()",
        "update lora_datasets set source_key = 'users/x'",
        "insert into lora_datasets (id, user_id, name, status)"
        " values (gen_random_uuid(), gen_random_uuid(), 'x', 'ready')",
        "delete from lora_datasets",
        "select * from job_counts",
        "update job_events set data = '{}'",  # the feed is append-only
        "delete from job_events",
        # It asks a job to stop for a budget (cancellation_requested_at, stop_reason); a budget is the user's.
        "update lora_training_jobs set max_cost = 1",
        "update account_limits set monthly_spend_limit = 1000000",
        "insert into account_limits (user_id, monthly_spend_limit) values (gen_random_uuid(), 1)",
        "delete from account_limits",
        "update job_checkpoints set object_key = 'users/x'",  # a saved checkpoint stays where it was
        "delete from job_checkpoints",
        # It signs with an endpoint's secret and records attempts; endpoints are the user's.
        "update webhook_endpoints set url = 'https://elsewhere.example.com/'",
        "delete from webhook_endpoints",
        "update webhook_deliveries set payload = '{}'",  # every attempt sends the bytes first written
        "update webhook_delivery_attempts set response_status = 200",
        "delete from webhook_delivery_attempts",
    ],
)
def test_the_worker_role_may_not(worker_role: psycopg.Connection[DictRow], statement: str) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        worker_role.execute(statement)


def test_row_level_security_is_forced_on_every_tenant_table(db: psycopg.Connection[DictRow]) -> None:
    rows = db.execute(
        "select relname, relrowsecurity, relforcerowsecurity from pg_class where relname = any(%s)",
        (list(FORCED_TABLES),),
    ).fetchall()
    assert {row["relname"]: (row["relrowsecurity"], row["relforcerowsecurity"]) for row in rows} == {
        table: (True, True) for table in FORCED_TABLES
    }


def test_a_table_owner_that_is_not_a_superuser_sees_no_tenant_row_without_the_setting(
    db: psycopg.Connection[DictRow],
) -> None:
    """As in RDS, where the owner is not a superuser: forced, the policies apply to the owner too."""
    user = uuid4()
    _job_with_message(db, user)
    owner = f"owner_{uuid4().hex[:12]}"
    with psycopg.connect(owner_database_url(), row_factory=dict_row) as conn:  # one transaction, undone
        conn.execute(f"create role {owner} nosuperuser nobypassrls")  # a generated identifier
        for table in FORCED_TABLES:
            conn.execute(f"alter table {table} owner to {owner}")  # constant names
        conn.execute(f"set local role {owner}")
        counts = {
            table: conn.execute(f"select count(*) as n from {table}").fetchone() for table in FORCED_TABLES
        }
        conn.execute("select set_config('app.user_id', %s, true)", (str(user),))
        jobs = conn.execute("select count(*) as n from lora_training_jobs").fetchone()
        conn.rollback()

    assert counts == {table: {"n": 0} for table in FORCED_TABLES}
    assert jobs == {"n": 1}

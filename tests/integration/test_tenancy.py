"""Tenancy in depth: every query filters by the caller, and row level security holds even when one doesn't.

The functions connect as pipeline_app, which owns no table and cannot bypass row level security; each
request's transaction sets app.user_id, and the policies show only that user's rows.
"""

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg.rows import DictRow, dict_row

from functions.account_usage import app as account_usage_app
from functions.cancel_job import app as cancel_job_app
from functions.create_dataset import app as create_dataset_app
from functions.create_job import app as create_job_app
from functions.delete_dataset import app as delete_dataset_app
from functions.delete_webhook import app as delete_webhook_app
from functions.estimate import app as estimate_app
from functions.get_account_limits import app as get_account_limits_app
from functions.get_dataset import app as get_dataset_app
from functions.get_job import app as get_job_app
from functions.job_checkpoints import app as job_checkpoints_app
from functions.job_download import app as job_download_app
from functions.job_events import app as job_events_app
from functions.job_metrics import app as job_metrics_app
from functions.list_datasets import app as list_datasets_app
from functions.list_jobs import app as list_jobs_app
from functions.list_webhook_deliveries import app as list_webhook_deliveries_app
from functions.list_webhooks import app as list_webhooks_app
from functions.put_account_limits import app as put_account_limits_app
from functions.rotate_webhook_secret import app as rotate_webhook_secret_app
from pipeline.budgets import repository as budgets_repository
from pipeline.datasets import repository as datasets_repository
from pipeline.jobs import queries as job_queries
from pipeline.jobs import repository as jobs_repository
from pipeline.webhooks import repository as webhooks_repository
from tests.api_client import build_event, invoke
from tests.factories import create_body, estimate_body, insert_dataset, insert_job

TENANT_TABLES = ("lora_datasets", "lora_training_jobs", "lora_notifications", "account_limits")
READABLE_TENANT_TABLES = (
    "lora_datasets",
    "lora_training_jobs",
    "account_limits",
)  # notifications: insert only
INSERT_NOTIFICATION = """
insert into lora_notifications (user_id, type, title, message, priority) values (%s, 't', 't', 'm', 'low')
"""

INSERT_WEBHOOK = """
insert into webhook_endpoints (user_id, url, events, secret)
values (%s, 'https://hooks.example.com/', array['job.completed'], 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')
returning id, secret
"""
INSERT_LIMIT = "insert into account_limits (user_id, monthly_spend_limit) values (%s, %s)"
INSERT_DELIVERY = """
insert into webhook_deliveries (endpoint_id, user_id, job_id, event_type, payload)
values (%s, %s, %s, 'job.completed', '{}')
"""


@dataclass(frozen=True)
class Tenant:
    user_id: UUID
    dataset_id: UUID
    job_id: UUID
    webhook_id: UUID


@pytest.fixture
def tenants(db: psycopg.Connection[DictRow]) -> tuple[Tenant, Tenant]:
    made = []
    for _ in range(2):
        user_id = uuid4()
        dataset_id = insert_dataset(db, user_id=user_id)
        job_id = insert_job(db, user_id=user_id, dataset_id=dataset_id)
        webhook = db.execute(INSERT_WEBHOOK, (user_id,)).fetchone()
        assert webhook is not None
        db.execute(INSERT_DELIVERY, (webhook["id"], user_id, job_id))
        made.append(Tenant(user_id, dataset_id, job_id, webhook["id"]))
        db.execute(INSERT_NOTIFICATION, (user_id,))
        db.execute(INSERT_LIMIT, (user_id, 100 * len(made)))  # alice 100, bob 200
    return made[0], made[1]


@pytest.fixture
def app_connection() -> Iterator[psycopg.Connection[DictRow]]:
    """A connection as the functions make it: the application role."""
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True, row_factory=dict_row) as conn:
        yield conn


def test_functions_role_owns_nothing_and_cannot_bypass_row_level_security(
    app_connection: psycopg.Connection[DictRow],
) -> None:
    role = app_connection.execute(
        "select rolname, rolsuper, rolbypassrls from pg_roles where rolname = current_user"
    ).fetchone()
    assert role == {"rolname": "pipeline_app", "rolsuper": False, "rolbypassrls": False}
    owners = app_connection.execute(
        "select tablename, tableowner, rowsecurity from pg_tables where tablename = any(%s)",
        (list(TENANT_TABLES),),
    ).fetchall()
    assert {row["tablename"] for row in owners} == set(TENANT_TABLES)
    assert all(row["tableowner"] != "pipeline_app" and row["rowsecurity"] for row in owners)


def test_without_a_caller_the_application_role_sees_no_rows(
    tenants: tuple[Tenant, Tenant], app_connection: psycopg.Connection[DictRow]
) -> None:
    for table in READABLE_TENANT_TABLES:
        row = app_connection.execute(f"select count(*) as n from {table}").fetchone()  # constant names
        assert row == {"n": 0}, table


def test_with_a_caller_the_application_role_sees_only_that_callers_rows(
    tenants: tuple[Tenant, Tenant], app_connection: psycopg.Connection[DictRow]
) -> None:
    alice, _ = tenants
    with app_connection.transaction():
        app_connection.execute("select set_config('app.user_id', %s, true)", (str(alice.user_id),))
        for table in READABLE_TENANT_TABLES:
            users = app_connection.execute(
                f"select distinct user_id from {table}"
            ).fetchall()  # constant names
            assert users == [{"user_id": alice.user_id}], table


def test_application_role_cannot_write_rows_for_another_user(
    tenants: tuple[Tenant, Tenant], app_connection: psycopg.Connection[DictRow]
) -> None:
    alice, bob = tenants
    app_connection.autocommit = False
    app_connection.execute("select set_config('app.user_id', %s, true)", (str(alice.user_id),))

    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        app_connection.execute(INSERT_NOTIFICATION, (bob.user_id,))
    app_connection.rollback()


@pytest.mark.parametrize(
    "statement",
    [
        "update lora_datasets set status = 'ready'",
        "delete from lora_training_jobs",
        "truncate lora_notifications",
    ],
)
def test_application_role_has_only_the_privileges_the_functions_use(
    app_connection: psycopg.Connection[DictRow], statement: str
) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        app_connection.execute(statement)


@pytest.fixture(params=["with-user-filters", "user-filters-removed"])
def query_filters(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the matrix twice: as written, and with every `user_id = ...` filter taken out of the SQL."""
    if request.param == "user-filters-removed":
        monkeypatch.setattr(
            datasets_repository,
            "_FIND_FOR_USER",
            datasets_repository._FIND_FOR_USER.replace("and user_id = %s", "and %s::uuid is not null"),
        )
        for name, (filtered, unfiltered) in {
            "_DETAIL_FOR_USER": ("and user_id = %s", "and %s::uuid is not null"),
            "_LIST_FOR_USER": ("where user_id = %(user_id)s", "where %(user_id)s::uuid is not null"),
            "_LOCK_FOR_DELETE": ("and user_id = %s", "and %s::uuid is not null"),
            "_DELETE": ("and user_id = %s", "and %s::uuid is not null"),
        }.items():
            original = getattr(datasets_repository, name)
            assert filtered in original, name
            monkeypatch.setattr(datasets_repository, name, original.replace(filtered, unfiltered, 1))
        for name, (filtered, unfiltered) in {
            "_GET_FOR_USER": ("and j.user_id = %(user_id)s", "and true"),
            "_LIST_FOR_USER": ("where user_id = %(user_id)s", "where true"),
            "_COUNT_FOR_USER": ("where user_id = %(user_id)s", "where true"),
        }.items():
            original = getattr(jobs_repository, name)
            assert filtered in original, name
            monkeypatch.setattr(jobs_repository, name, original.replace(filtered, unfiltered, 1))
        for name, (filtered, unfiltered) in {
            "_LIST_ENDPOINTS": ("where user_id = %s", "where %s::uuid is not null"),
            "_DELETE_ENDPOINT": ("and user_id = %s", "and %s::uuid is not null"),
            "_REPLACE_SIGNING_KEY": ("and user_id = %(user_id)s", "and %(user_id)s::uuid is not null"),
            "_ENDPOINT_EXISTS": ("and user_id = %s", "and %s::uuid is not null"),
            "_LIST_DELIVERIES": ("and d.user_id = %(user_id)s", "and %(user_id)s::uuid is not null"),
        }.items():
            original = getattr(webhooks_repository, name)
            assert filtered in original, name
            monkeypatch.setattr(webhooks_repository, name, original.replace(filtered, unfiltered, 1))
        for name, (filtered, unfiltered) in {
            "_GET": ("where user_id = %s", "where %s::uuid is not null"),
            "_TOTALS": ("where user_id = %(user_id)s", "where %(user_id)s::uuid is not null"),
            "_JOBS": ("where user_id = %(user_id)s", "where %(user_id)s::uuid is not null"),
        }.items():
            original = getattr(budgets_repository, name)
            assert filtered in original, name
            monkeypatch.setattr(budgets_repository, name, original.replace(filtered, unfiltered, 1))
    return str(request.param)


def _cursor(caller: Tenant) -> str:
    """A cursor the caller may use, positioned after a (far future) job: the keyset query then runs."""
    position = job_queries.PagePosition(None, 1, 10, datetime(2100, 1, 1, tzinfo=UTC), UUID(int=2**128 - 1))
    return job_queries.cursor_at(position, caller.user_id, list_jobs_app.cursor_secret.value())


def _responses(caller: Tenant, other: Tenant) -> dict[str, Any]:
    sub = caller.user_id
    return {
        "estimate": invoke(
            estimate_app, build_event("estimate", sub=sub, body=estimate_body(other.dataset_id))
        ),
        "create_job": invoke(
            create_job_app, build_event("create_job", sub=sub, body=create_body(other.dataset_id))
        ),
        "get_dataset": invoke(
            get_dataset_app, build_event("get_dataset", sub=sub, path=f"/datasets/{other.dataset_id}")
        ),
        "list_datasets": invoke(list_datasets_app, build_event("list_datasets", sub=sub, query={})),
        "delete_dataset": invoke(
            delete_dataset_app, build_event("delete_dataset", sub=sub, path=f"/datasets/{other.dataset_id}")
        ),
        "create_dataset": invoke(
            create_dataset_app, build_event("create_dataset", sub=sub, body={"name": "x"})
        ),
        "get_job": invoke(get_job_app, build_event("get_job", sub=sub, path=f"/jobs/{other.job_id}")),
        "job_events": invoke(
            job_events_app, build_event("job_events", sub=sub, path=f"/jobs/{other.job_id}/events")
        ),
        "job_metrics": invoke(
            job_metrics_app, build_event("job_metrics", sub=sub, path=f"/jobs/{other.job_id}/metrics")
        ),
        "job_checkpoints": invoke(
            job_checkpoints_app,
            build_event("job_checkpoints", sub=sub, path=f"/jobs/{other.job_id}/checkpoints"),
        ),
        "job_download": invoke(
            job_download_app, build_event("job_download", sub=sub, path=f"/jobs/{other.job_id}/download")
        ),
        "cancel_job": invoke(
            cancel_job_app, build_event("cancel_job", sub=sub, path=f"/jobs/{other.job_id}/cancel")
        ),
        "list_jobs": invoke(list_jobs_app, build_event("list_jobs", sub=sub, query={})),
        "list_jobs_by_status": invoke(
            list_jobs_app, build_event("list_jobs", sub=sub, query={"status": "queued"})
        ),
        "list_jobs_after": invoke(
            list_jobs_app, build_event("list_jobs", sub=sub, query={"cursor": _cursor(caller)})
        ),
        "list_webhooks": invoke(list_webhooks_app, build_event("list_webhooks", sub=sub)),
        "list_webhook_deliveries": invoke(
            list_webhook_deliveries_app,
            build_event(
                "list_webhook_deliveries", sub=sub, path=f"/webhooks/{other.webhook_id}/deliveries", query={}
            ),
        ),
        "rotate_webhook_secret": invoke(
            rotate_webhook_secret_app,
            build_event("rotate_webhook_secret", sub=sub, path=f"/webhooks/{other.webhook_id}/rotate-secret"),
        ),
        "delete_webhook": invoke(
            delete_webhook_app, build_event("delete_webhook", sub=sub, path=f"/webhooks/{other.webhook_id}")
        ),
        "get_account_limits": invoke(get_account_limits_app, build_event("get_account_limits", sub=sub)),
        "account_usage": invoke(account_usage_app, build_event("account_usage", sub=sub, query={})),
        "put_account_limits": invoke(
            put_account_limits_app,
            build_event("put_account_limits", sub=sub, body={"monthly_spend_limit": 7}),
        ),
    }


@pytest.mark.parametrize("direction", ["alice-reads-bob", "bob-reads-alice"])
def test_every_endpoint_answers_404_or_nothing_for_the_other_tenants_ids(
    db: psycopg.Connection[DictRow], tenants: tuple[Tenant, Tenant], query_filters: str, direction: str
) -> None:
    caller, other = tenants if direction == "alice-reads-bob" else tenants[::-1]

    responses = _responses(caller, other)

    assert responses["estimate"].status == 404
    assert responses["create_job"].status == 404
    assert responses["get_dataset"].status == 404
    assert responses["get_dataset"].body == {"error": "Dataset not found or access denied"}
    assert (responses["delete_dataset"].status, responses["delete_dataset"].body) == (
        404,
        {"error": "Dataset not found or access denied"},
    )
    listed_datasets = responses["list_datasets"].body["data"]["datasets"]
    assert str(other.dataset_id) not in [d["id"] for d in listed_datasets]
    assert str(caller.dataset_id) in [d["id"] for d in listed_datasets]
    created = responses["create_dataset"].body["data"]["dataset"]["id"]
    owners = db.execute("select id, user_id from lora_datasets").fetchall()
    assert {row["id"]: row["user_id"] for row in owners} == {
        caller.dataset_id: caller.user_id,
        other.dataset_id: other.user_id,  # not deleted
        UUID(created): caller.user_id,  # created as the caller's own
    }
    assert responses["get_job"].status == 404
    assert responses["get_job"].body == {"error": "Training job not found"}
    assert responses["job_events"].status == 404
    assert responses["job_events"].body == {"error": "Training job not found"}
    assert responses["job_metrics"].status == 404
    assert responses["job_metrics"].body == {"error": "Training job not found"}
    for name in ("job_checkpoints", "job_download"):
        assert (responses[name].status, responses[name].body) == (404, {"error": "Training job not found"})
    assert responses["cancel_job"].status == 404
    assert responses["cancel_job"].body == {"error": "Training job not found"}
    statuses = db.execute("select status, cancellation_requested_at from lora_training_jobs").fetchall()
    assert {row["status"] for row in statuses} == {"queued"}  # the other's job was not cancelled
    assert all(row["cancellation_requested_at"] is None for row in statuses)
    for listing in ("list_jobs", "list_jobs_by_status", "list_jobs_after"):
        data = responses[listing].body["data"]
        assert [job["id"] for job in data["jobs"]] == [str(caller.job_id)], listing
        assert data["pagination"]["total"] == 1, listing
    assert db.execute("select count(*) as n from lora_training_jobs").fetchone() == {"n": 2}
    for name in ("list_webhook_deliveries", "rotate_webhook_secret", "delete_webhook"):
        assert (responses[name].status, responses[name].body) == (404, {"error": "Webhook not found"}), name
    listed = responses["list_webhooks"].body["data"]["webhooks"]
    assert [hook["id"] for hook in listed] == [str(caller.webhook_id)]
    endpoints = db.execute("select secret, previous_secret from webhook_endpoints").fetchall()
    assert len(endpoints) == 2  # neither deleted
    assert all(row["previous_secret"] is None for row in endpoints)  # nor rotated
    assert db.execute("select count(*) as n from webhook_deliveries").fetchone() == {"n": 2}
    caller_limit = 100 if caller is tenants[0] else 200
    assert responses["get_account_limits"].body["data"]["monthly_spend_limit"] == caller_limit
    usage = responses["account_usage"].body["data"]
    assert [job["job_id"] for job in usage["jobs"]] == [str(caller.job_id)]
    assert usage["monthly_spend_limit"] == caller_limit
    assert responses["put_account_limits"].body["data"]["monthly_spend_limit"] == 7
    limits = db.execute("select user_id, monthly_spend_limit from account_limits").fetchall()
    assert {row["user_id"]: row["monthly_spend_limit"] for row in limits} == {
        caller.user_id: 7,
        other.user_id: 300 - caller_limit,  # the other's limit untouched
    }


def test_removing_the_filters_is_really_exercised(
    tenants: tuple[Tenant, Tenant], monkeypatch: pytest.MonkeyPatch, db: psycopg.Connection[DictRow]
) -> None:
    """The owner (who bypasses row level security) sees the other tenant once the filter is gone."""
    alice, bob = tenants
    unfiltered = jobs_repository._GET_FOR_USER.replace("and j.user_id = %(user_id)s", "")

    row = db.execute(unfiltered, {"job_id": bob.job_id, "user_id": alice.user_id}).fetchone()

    assert row is not None
    assert row["user_id"] == bob.user_id

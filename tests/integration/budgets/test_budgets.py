"""Budgets a user sets: a job's max_cost (stopped when reached, never charged more) and the account's
monthly spending limit (a create that would pass it is refused; a running job that would is stopped),
through the functions and the reports consumer as deployed."""

import json
import threading
import time
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg.rows import DictRow, dict_row

from functions.account_usage import app as account_usage_app
from functions.cancel_job import app as cancel_job_app
from functions.create_job import app as create_job_app
from functions.estimate import app as estimate_app
from functions.get_account_limits import app as get_limits_app
from functions.get_job import app as get_job_app
from functions.put_account_limits import app as put_limits_app
from pipeline.artifacts.locations import job_prefix
from pipeline.budgets import limits as budget_limits
from pipeline.budgets import repository as budgets_repository
from pipeline.budgets.models import UpdateLimitsRequest
from pipeline.catalog.configuration import CreateJobRequest
from pipeline.db.database import Database, DatabaseSettings
from pipeline.errors import MonthlyLimitReached
from pipeline.jobs import creation as job_creation
from pipeline.workers import reports as job_reports
from tests.api_client import ApiResponse, build_event, invoke
from tests.factories import (
    RecordedStops,
    create_body,
    estimate_body,
    insert_dataset,
    insert_job,
    insert_webhook,
)
from tests.services import owner_database_url

ESTIMATE = Decimal("5.94")  # create_body's Balanced job on 2 x A100-80GB over the default dataset


def _put_limit(user_id: UUID, limit: Any) -> ApiResponse:
    return invoke(
        put_limits_app, build_event("put_account_limits", sub=user_id, body={"monthly_spend_limit": limit})
    )


def _create(user_id: UUID, dataset_id: UUID, **overrides: Any) -> ApiResponse:
    return invoke(
        create_job_app, build_event("create_job", sub=user_id, body=create_body(dataset_id, **overrides))
    )


def _usage(user_id: UUID, **query: str) -> ApiResponse:
    return invoke(account_usage_app, build_event("account_usage", sub=user_id, query=query))


def _user(db: psycopg.Connection[DictRow]) -> tuple[UUID, UUID]:
    user_id = uuid4()
    return user_id, insert_dataset(db, user_id=user_id)


def test_a_limit_is_set_read_and_removed_for_its_user_only(db: psycopg.Connection[DictRow]) -> None:
    me, someone = uuid4(), uuid4()
    assert invoke(get_limits_app, build_event("get_account_limits", sub=me)).body["data"] == {
        "monthly_spend_limit": None,
        "updated_at": None,
    }

    set_ = _put_limit(me, 250.5)

    assert set_.status == 200
    assert set_.body["data"]["monthly_spend_limit"] == 250.5
    assert (
        invoke(get_limits_app, build_event("get_account_limits", sub=me)).body["data"]["monthly_spend_limit"]
        == 250.5
    )
    assert (
        invoke(get_limits_app, build_event("get_account_limits", sub=someone)).body["data"][
            "monthly_spend_limit"
        ]
        is None
    )
    assert _put_limit(me, None).body["data"]["monthly_spend_limit"] is None


@pytest.mark.parametrize(
    ("limit", "message"), [(10.005, "at most two decimals"), (-1, "greater than or equal to 0")]
)
def test_a_limit_that_is_not_dollars_and_cents_is_a_400_naming_it(limit: float, message: str) -> None:
    refused = _put_limit(uuid4(), limit)

    assert refused.status == 400
    assert message in refused.body["details"]["monthly_spend_limit"][0]


def test_an_estimate_says_whether_the_job_fits_the_month_and_shows_its_spend(
    db: psycopg.Connection[DictRow],
) -> None:
    user_id, dataset_id = _user(db)
    assert _create(user_id, dataset_id).status == 201  # 5.94 committed this month
    _put_limit(user_id, 12)

    def estimate(**body: Any) -> dict[str, Any]:
        answer = invoke(
            estimate_app, build_event("estimate", sub=user_id, body=estimate_body(dataset_id, **body))
        )
        assert answer.status == 200, answer.body
        return dict(answer.body["data"])

    fits = estimate()
    assert fits["within_limit"] is True  # 5.94 committed + 5.94 <= 12
    assert fits["monthly_spend"] == {
        "month": fits["monthly_spend"]["month"],
        "monthly_spend_limit": 12,
        "charged": 0,
        "committed": 5.94,
        "remaining": 6.06,
    }
    assert estimate(max_cost=6.07)["within_limit"] is False  # its budget is what it reserves
    _put_limit(user_id, None)
    assert {"within_limit", "monthly_spend"}.isdisjoint(estimate())  # no limit: the estimate as before


@pytest.mark.parametrize(
    ("limit", "fits"), [(11.88, True), (11.87, False)], ids=["exactly-at-the-limit", "a-cent-over"]
)
def test_a_create_fits_the_month_up_to_its_limit_exactly(
    db: psycopg.Connection[DictRow], limit: float, fits: bool
) -> None:
    user_id, dataset_id = _user(db)
    assert _create(user_id, dataset_id).status == 201
    _put_limit(user_id, limit)

    second = _create(user_id, dataset_id)

    if fits:
        assert second.status == 201
        return
    assert second.status == 409
    assert second.body["error"] == "Monthly spending limit reached"
    details = second.body["details"]
    assert {key: details[key] for key in ("monthly_spend_limit", "charged", "committed", "this_job")} == {
        "monthly_spend_limit": 11.87,
        "charged": 0,
        "committed": 5.94,
        "this_job": 5.94,
    }
    assert db.execute(
        "select count(*) as n from lora_training_jobs where user_id = %s", (user_id,)
    ).fetchone() == {"n": 1}


def test_two_creates_that_each_fit_alone_but_not_together_are_one_refused(
    db: psycopg.Connection[DictRow],
) -> None:
    user_id, dataset_id = _user(db)
    _put_limit(user_id, 10)  # one 5.94 job fits, two do not
    request = CreateJobRequest.model_validate(create_body(dataset_id))
    outcomes: list[str] = []
    ready = threading.Barrier(2)

    def create() -> None:
        database = Database(DatabaseSettings.from_env())  # each its own connection, as two environments
        ready.wait()
        try:
            job_creation.create_job(database, user_id, request, RecordedStops())
            outcomes.append("created")
        except MonthlyLimitReached:
            outcomes.append("refused")
        finally:
            database.close()

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["created", "refused"]


def test_a_max_cost_below_the_estimate_is_a_400_naming_it(db: psycopg.Connection[DictRow]) -> None:
    user_id, dataset_id = _user(db)

    refused = _create(user_id, dataset_id, max_cost=5.93)
    estimated = invoke(
        estimate_app, build_event("estimate", sub=user_id, body=estimate_body(dataset_id, max_cost=5.93))
    )

    assert (refused.status, estimated.status) == (400, 400)
    assert refused.body["details"]["max_cost"] == [
        "At least the estimate, 5.94: the job is stopped when its cost reaches max_cost"
    ]
    assert _create(user_id, dataset_id, max_cost=5.94).body["data"]["max_cost"] == 5.94


def test_the_months_usage_lists_what_each_job_charged_and_committed(db: psycopg.Connection[DictRow]) -> None:
    user_id, dataset_id = _user(db)
    _put_limit(user_id, 100)
    budgeted = _create(user_id, dataset_id, max_cost=8).body["data"]["id"]
    plain = _create(user_id, dataset_id).body["data"]["id"]
    done = insert_job(db, user_id=user_id, dataset_id=dataset_id, status="completed")
    db.execute("update lora_training_jobs set current_cost = 2.50 where id = %s", (done,))
    db.execute("update lora_training_jobs set current_cost = 1.00 where id = %s", (plain,))

    usage = _usage(user_id).body["data"]

    assert {key: usage[key] for key in ("monthly_spend_limit", "charged", "committed", "remaining")} == {
        "monthly_spend_limit": 100,
        "charged": 3.5,  # 2.50 done, 1.00 so far
        "committed": 12.94,  # 8 (its max_cost), 4.94 (its estimate less what it cost so far)
        "remaining": 83.56,
    }
    by_job = {job["job_id"]: (job["charged"], job["committed"]) for job in usage["jobs"]}
    assert by_job == {budgeted: (0, 8), plain: (1, 4.94), str(done): (2.5, 0)}
    paged = _usage(user_id, limit="2").body["data"]
    rest_answer = _usage(user_id, limit="2", cursor=paged["next_cursor"])
    assert rest_answer.status == 200, rest_answer.body
    rest = rest_answer.body["data"]
    assert [job["job_id"] for job in paged["jobs"] + rest["jobs"]] == [job["job_id"] for job in usage["jobs"]]
    assert rest["next_cursor"] is None
    last_month = _usage(user_id, month="2020-01").body["data"]
    assert (last_month["charged"], last_month["jobs"]) == (0, [])
    other_month = _usage(user_id, month="2020-01", limit="2", cursor=paged["next_cursor"])
    assert (other_month.status, other_month.body["details"]) == (400, {"cursor": ["Invalid cursor"]})


def _report(job: tuple[UUID, UUID], sequence: int, kind: str, **fields: Any) -> str:
    body = {
        "type": f"training_job.{kind}", "version": 1, "job_id": str(job[1]), "user_id": str(job[0]),
        "sequence": sequence, "sent_at": "2026-12-07T12:00:00Z",
    }  # fmt: skip
    return json.dumps(body | fields)


def _running(
    db: psycopg.Connection[DictRow], user_id: UUID, dataset_id: UUID, max_cost: str | None
) -> tuple[UUID, UUID]:
    job_id = insert_job(db, user_id=user_id, dataset_id=dataset_id, status="running")  # one H100 at $4.20/h
    db.execute("update lora_training_jobs set max_cost = %s where id = %s", (max_cost, job_id))
    return user_id, job_id


def test_a_job_whose_cost_reaches_its_max_cost_is_stopped_and_never_charged_more(
    db: psycopg.Connection[DictRow], worker_db: Database
) -> None:
    user_id, dataset_id = _user(db)
    job = _running(db, user_id, dataset_id, "1.00")  # 1.00 buys 857.142 H100-seconds
    webhook = insert_webhook(db, user_id=user_id)
    stops = RecordedStops()

    assert (
        job_reports.apply_report(
            worker_db, _report(job, 1, "progress", step=50, epoch=0, gpu_seconds=600), stops
        )
        == "applied"
    )
    assert stops.sent == []  # 0.70 of 1.00
    assert (
        job_reports.apply_report(
            worker_db, _report(job, 2, "progress", step=80, epoch=0, gpu_seconds=900), stops
        )
        == "applied"
    )

    row = db.execute(
        "select status, current_cost, stop_reason, cancellation_requested_at is not null as asked"
        " from lora_training_jobs where id = %s",
        (job[1],),
    ).fetchone()
    assert row == {
        "status": "running",
        "current_cost": Decimal("1.00"),
        "stop_reason": "budget_reached",
        "asked": True,
    }
    assert [(stop["type"], stop["job_id"]) for stop in stops.sent] == [
        ("training_job.cancel_requested", str(job[1]))
    ]
    sent = db.execute(
        "select sent_at is not null as sent from job_queue_outbox"
        " where job_id = %s and destination = 'worker_control'",
        (job[1],),
    ).fetchall()
    assert sent == [{"sent": True}]  # through the outbox, sent right after the report's commit

    # The worker stops at its next step, past the budget: the overshoot is ours.
    stopped = _report(job, 3, "cancelled", step=82, epoch=0, gpu_seconds=930)
    assert job_reports.apply_report(worker_db, stopped, stops) == "applied"

    final = invoke(get_job_app, build_event("get_job", sub=user_id, path=f"/jobs/{job[1]}")).body["data"]
    assert (final["status"], final["current_cost"], final["max_cost"], final["stop_reason"]) == (
        "cancelled", 1.0, 1.0, "budget_reached",
    )  # fmt: skip
    events = db.execute(
        "select type, data from job_events where job_id = %s order by id", (job[1],)
    ).fetchall()
    assert [e["type"] for e in events][-2:] == ["status_changed", "cost"]
    asked = next(e["data"] for e in events if e["type"] == "cancellation_requested")
    assert (asked["reason"], asked["cap"]) == ("budget_reached", 1)
    assert next(e["data"] for e in events if e["type"] == "status_changed")["stop_reason"] == "budget_reached"
    cost = events[-1]["data"]
    assert (cost["cost"], cost["cap"], cost["beyond_cap_not_charged"]) == (1, 1, 0.09)  # 930 s cost 1.09
    notice = db.execute(
        "select message, metadata from lora_notifications where user_id = %s and type = 'job_cancelled'",
        (user_id,),
    ).fetchone()
    assert notice is not None
    assert notice["message"].endswith(": its cost reached the budget (max_cost) you set for it")
    payloads = db.execute(
        "select payload from webhook_deliveries where endpoint_id = %s and event_type = 'job.cancelled'",
        (webhook,),
    ).fetchall()
    assert [json.loads(row["payload"])["data"]["stop_reason"] for row in payloads] == ["budget_reached"]


def test_a_running_job_is_stopped_at_what_the_months_limit_leaves_it(
    db: psycopg.Connection[DictRow], worker_db: Database
) -> None:
    user_id, dataset_id = _user(db)
    earlier = insert_job(db, user_id=user_id, dataset_id=dataset_id, status="completed")
    db.execute("update lora_training_jobs set current_cost = 3.00 where id = %s", (earlier,))
    job = _running(db, user_id, dataset_id, None)
    stops = RecordedStops()
    first = _report(job, 1, "progress", step=50, epoch=0, gpu_seconds=857)  # 1.00, before any limit
    assert job_reports.apply_report(worker_db, first, stops) == "applied"
    _put_limit(user_id, 5)  # the earlier job's 3.00 leaves this one 2.00 in all (its own 1.00 included)

    # 3600 s of an H100: 4.20, of which the month leaves 2.00.
    report = _report(job, 2, "progress", step=100, epoch=0, gpu_seconds=3600)
    assert job_reports.apply_report(worker_db, report, stops) == "applied"

    row = db.execute(
        "select current_cost, stop_reason from lora_training_jobs where id = %s", (job[1],)
    ).fetchone()
    assert row == {"current_cost": Decimal("2.00"), "stop_reason": "monthly_limit_reached"}
    assert len(stops.sent) == 1
    month = _usage(user_id).body["data"]
    assert month["charged"] == 5  # never past the limit

    _put_limit(user_id, 50)  # raised once the job was stopped: the time until its worker stopped is ours
    stopped = _report(job, 3, "cancelled", step=101, epoch=0, gpu_seconds=3636)
    assert job_reports.apply_report(worker_db, stopped, stops) == "applied"
    row = db.execute(
        "select status, current_cost from lora_training_jobs where id = %s", (job[1],)
    ).fetchone()
    assert row == {"status": "cancelled", "current_cost": Decimal("2.00")}
    cost = db.execute("select data from job_events where job_id = %s and type = 'cost'", (job[1],)).fetchone()
    assert cost is not None
    assert (cost["data"]["cap"], cost["data"]["beyond_cap_not_charged"]) == (2, 2.24)  # 4.24 used


def _waiting_for_a_lock(db: psycopg.Connection[DictRow]) -> None:
    """Until another session waits for an advisory lock (the budget lock this test holds)."""
    for _ in range(500):
        waiting = db.execute(
            "select count(*) as n from pg_locks where locktype = 'advisory' and not granted"
            " and database = (select oid from pg_database where datname = current_database())"
        ).fetchone()
        if waiting == {"n": 1}:
            return
        time.sleep(0.01)
    raise AssertionError("no session waited for the budget lock")


def test_a_create_reads_the_month_only_once_the_create_before_it_committed(
    db: psycopg.Connection[DictRow],
) -> None:
    user_id, dataset_id = _user(db)
    _put_limit(user_id, 7)  # 5.94 fits alone; beside another 1.23 job it does not
    request = CreateJobRequest.model_validate(create_body(dataset_id))
    outcome: list[str] = []

    def create() -> None:
        database = Database(DatabaseSettings.from_env())
        try:
            job_creation.create_job(database, user_id, request, RecordedStops())
            outcome.append("created")
        except MonthlyLimitReached:
            outcome.append("refused")
        finally:
            database.close()

    with psycopg.connect(owner_database_url(), row_factory=dict_row) as earlier:  # a create under way
        budgets_repository.lock_budget(earlier, user_id)
        insert_job(earlier, user_id=user_id, dataset_id=dataset_id)  # 1.23, not yet committed
        thread = threading.Thread(target=create)
        thread.start()
        _waiting_for_a_lock(db)
        earlier.commit()
    thread.join()

    assert outcome == ["refused"]


def test_a_first_limit_waits_for_the_creates_under_way(db: psycopg.Connection[DictRow]) -> None:
    user_id, _ = _user(db)
    set_to: list[Decimal | None] = []

    def put() -> None:
        database = Database(DatabaseSettings.from_env())
        try:
            request = UpdateLimitsRequest(monthly_spend_limit=10)
            set_to.append(budget_limits.put_limits(database, user_id, request).monthly_spend_limit)
        finally:
            database.close()

    with psycopg.connect(owner_database_url(), row_factory=dict_row) as earlier:  # a create under way
        budgets_repository.lock_budget(earlier, user_id)
        thread = threading.Thread(target=put)
        thread.start()
        _waiting_for_a_lock(db)
        assert set_to == []  # not before the create commits: it checked the month without a limit
        earlier.commit()
    thread.join()

    assert set_to == [Decimal("10.00")]


def test_a_users_cancel_says_so(db: psycopg.Connection[DictRow]) -> None:
    user_id, dataset_id = _user(db)
    job_id = _create(user_id, dataset_id).body["data"]["id"]

    cancelled = invoke(cancel_job_app, build_event("cancel_job", sub=user_id, path=f"/jobs/{job_id}/cancel"))

    assert cancelled.body["data"]["job"]["stop_reason"] == "cancelled_by_user"


def test_an_artifact_key_is_still_held_to_its_prefix_under_a_budget(
    db: psycopg.Connection[DictRow], worker_db: Database
) -> None:
    # A completion past the budget is charged the budget, and its adapter is kept.
    user_id, dataset_id = _user(db)
    job = _running(db, user_id, dataset_id, "1.00")
    done = _report(
        job, 1, "completed", step=125, epoch=1, gpu_seconds=1000,
        artifact_key=f"{job_prefix(*job)}adapter/adapter_model.safetensors",
    )  # fmt: skip

    assert job_reports.apply_report(worker_db, done, RecordedStops()) == "applied"

    row = db.execute(
        "select status, current_cost, artifact_key is not null as kept from lora_training_jobs where id = %s",
        (job[1],),
    ).fetchone()
    assert row == {"status": "completed", "current_cost": Decimal("1.00"), "kept": True}

"""GET /jobs and GET /jobs/{job_id}: the caller's jobs only, newest first, paginated."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg.rows import DictRow

from functions.get_job import app as get_job_app
from functions.list_jobs import app as list_jobs_app
from tests.api_client import build_event, invoke
from tests.factories import insert_dataset, insert_job

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _list(user_id: UUID, **query: str) -> Any:
    return invoke(list_jobs_app, build_event("list_jobs", sub=user_id, query=query))


def _get(user_id: UUID, job_id: str) -> Any:
    return invoke(get_job_app, build_event("get_job", sub=user_id, path=f"/jobs/{job_id}"))


@pytest.fixture
def user_id() -> UUID:
    return uuid4()


@pytest.fixture
def dataset_id(db: psycopg.Connection[DictRow], user_id: UUID) -> UUID:
    return insert_dataset(
        db, user_id=user_id, name="Support tickets", format="jsonl", total_training_pairs=1234
    )


def _jobs(db: psycopg.Connection[DictRow], user_id: UUID, dataset_id: UUID, count: int) -> list[UUID]:
    """`count` jobs one minute apart, returned newest first."""
    ids = [
        insert_job(db, user_id=user_id, dataset_id=dataset_id, created_at=T0 + timedelta(minutes=i))
        for i in range(count)
    ]
    return ids[::-1]


def test_no_jobs_gives_an_empty_first_page(db: psycopg.Connection[DictRow], user_id: UUID) -> None:
    response = _list(user_id)

    assert response.status == 200
    assert response.body == {
        "success": True,
        "data": {
            "jobs": [],
            "pagination": {"page": 1, "limit": 10, "total": 0, "totalPages": 0},
            "next_cursor": None,
        },
    }


def test_jobs_are_listed_newest_first_with_their_dataset(
    db: psycopg.Connection[DictRow], user_id: UUID, dataset_id: UUID
) -> None:
    newest_first = _jobs(db, user_id, dataset_id, 3)

    response = _list(user_id)

    jobs = response.body["data"]["jobs"]
    assert [job["id"] for job in jobs] == [str(job_id) for job_id in newest_first]
    assert jobs[0]["dataset"] == {"name": "Support tickets", "format": "jsonl", "total_training_pairs": 1234}
    assert jobs[0]["created_at"] == (T0 + timedelta(minutes=2)).isoformat().replace("+00:00", "Z")
    assert response.body["data"]["pagination"] == {"page": 1, "limit": 10, "total": 3, "totalPages": 1}


def test_jobs_created_at_the_same_instant_are_ordered_by_id_descending(
    db: psycopg.Connection[DictRow], user_id: UUID, dataset_id: UUID
) -> None:
    ids = [insert_job(db, user_id=user_id, dataset_id=dataset_id, created_at=T0) for _ in range(5)]

    listed = [job["id"] for job in _list(user_id).body["data"]["jobs"]]

    assert listed == sorted((str(job_id) for job_id in ids), reverse=True)


@pytest.mark.parametrize(
    ("page", "expected_slice"),
    [("1", slice(0, 10)), ("2", slice(10, 20)), ("3", slice(20, 25)), ("4", slice(25, 25))],
    ids=["first", "middle", "last-partial", "past-the-end"],
)
def test_pages_split_the_jobs_without_gaps_or_overlap(
    db: psycopg.Connection[DictRow], user_id: UUID, dataset_id: UUID, page: str, expected_slice: slice
) -> None:
    newest_first = _jobs(db, user_id, dataset_id, 25)

    response = _list(user_id, page=page, limit="10")

    assert [job["id"] for job in response.body["data"]["jobs"]] == [
        str(i) for i in newest_first[expected_slice]
    ]
    assert response.body["data"]["pagination"] == {
        "page": int(page),
        "limit": 10,
        "total": 25,
        "totalPages": 3,
    }


def test_limit_of_100_is_allowed(db: psycopg.Connection[DictRow], user_id: UUID, dataset_id: UUID) -> None:
    _jobs(db, user_id, dataset_id, 3)

    assert _list(user_id, limit="100").body["data"]["pagination"]["limit"] == 100


def test_status_filter_returns_only_that_status_and_counts_it(
    db: psycopg.Connection[DictRow], user_id: UUID, dataset_id: UUID
) -> None:
    running = [insert_job(db, user_id=user_id, dataset_id=dataset_id, status="running") for _ in range(2)]
    for status in ("queued", "completed", "failed"):
        insert_job(db, user_id=user_id, dataset_id=dataset_id, status=status)

    response = _list(user_id, status="running")

    jobs = response.body["data"]["jobs"]
    assert sorted(job["id"] for job in jobs) == sorted(str(job_id) for job_id in running)
    assert {job["status"] for job in jobs} == {"running"}
    assert response.body["data"]["pagination"]["total"] == 2
    assert _list(user_id, status="cancelled").body["data"]["pagination"]["total"] == 0


def test_other_users_jobs_are_never_listed(
    db: psycopg.Connection[DictRow], user_id: UUID, dataset_id: UUID
) -> None:
    mine = _jobs(db, user_id, dataset_id, 2)
    stranger = uuid4()
    _jobs(db, stranger, insert_dataset(db, user_id=stranger), 3)

    response = _list(user_id)

    assert [job["id"] for job in response.body["data"]["jobs"]] == [str(i) for i in mine]
    assert response.body["data"]["pagination"]["total"] == 2


def test_get_returns_the_callers_job_with_its_dataset(
    db: psycopg.Connection[DictRow], user_id: UUID, dataset_id: UUID
) -> None:
    job_id = insert_job(db, user_id=user_id, dataset_id=dataset_id, status="running")

    response = _get(user_id, str(job_id))

    assert response.status == 200
    job = response.body["data"]
    assert job["id"] == str(job_id)
    assert job["user_id"] == str(user_id)
    assert job["status"] == "running"
    assert job["estimated_total_cost"] == 1.23
    assert job["dataset"] == {"name": "Support tickets", "format": "jsonl", "total_training_pairs": 1234}


@pytest.mark.parametrize("job_ref", ["someone-elses", "unknown", "not-a-uuid", "12345"])
def test_get_answers_404_for_a_job_that_is_not_the_callers(
    db: psycopg.Connection[DictRow], user_id: UUID, job_ref: str
) -> None:
    stranger = uuid4()
    strangers_job = insert_job(db, user_id=stranger, dataset_id=insert_dataset(db, user_id=stranger))
    job_id = {"someone-elses": str(strangers_job), "unknown": str(uuid4())}.get(job_ref, job_ref)

    response = _get(user_id, job_id)

    assert response.status == 404
    assert response.body == {"error": "Training job not found"}


def _walk(user_id: UUID, **query: str) -> tuple[list[str], list[dict[str, Any]]]:
    """Follow next_cursor from the first page to the last; the ids seen and each page's pagination."""
    ids, paginations = [], []
    response = _list(user_id, **query)
    while True:
        assert response.status == 200, response.body
        ids += [job["id"] for job in response.body["data"]["jobs"]]
        paginations.append(response.body["data"]["pagination"])
        cursor = response.body["data"]["next_cursor"]
        if cursor is None:
            return ids, paginations
        response = _list(user_id, cursor=cursor, limit=query.get("limit", "10"))


def test_following_next_cursor_visits_every_job_once_in_order(
    db: psycopg.Connection[DictRow], user_id: UUID, dataset_id: UUID
) -> None:
    spaced = _jobs(db, user_id, dataset_id, 23)  # newest first
    # Three newest jobs created at the same instant: ordered by id, across page boundaries too.
    tied = [
        insert_job(db, user_id=user_id, dataset_id=dataset_id, created_at=T0 + timedelta(hours=1))
        for _ in range(3)
    ]
    expected = [str(i) for i in sorted(tied, key=str, reverse=True) + spaced]

    ids, paginations = _walk(user_id, limit="5")

    assert ids == expected
    assert [p["page"] for p in paginations] == [1, 2, 3, 4, 5, 6]
    assert {p["total"] for p in paginations} == {26}


def test_cursor_keeps_the_status_filter(
    db: psycopg.Connection[DictRow], user_id: UUID, dataset_id: UUID
) -> None:
    running = {
        str(insert_job(db, user_id=user_id, dataset_id=dataset_id, status="running")) for _ in range(7)
    }
    for _ in range(5):
        insert_job(db, user_id=user_id, dataset_id=dataset_id, status="queued")

    ids, paginations = _walk(user_id, status="running", limit="3")

    assert set(ids) == running
    assert len(ids) == 7
    assert [p["total"] for p in paginations] == [7, 7, 7]


def test_page_number_and_cursor_agree(
    db: psycopg.Connection[DictRow], user_id: UUID, dataset_id: UUID
) -> None:
    _jobs(db, user_id, dataset_id, 12)
    first = _list(user_id, limit="5").body["data"]

    by_cursor = _list(user_id, cursor=first["next_cursor"], limit="5").body["data"]
    by_number = _list(user_id, page="2", limit="5").body["data"]

    assert by_cursor["jobs"] == by_number["jobs"]
    assert by_cursor["pagination"] == by_number["pagination"]
    assert by_cursor["next_cursor"] is not None


def test_last_page_has_no_next_cursor(
    db: psycopg.Connection[DictRow], user_id: UUID, dataset_id: UUID
) -> None:
    _jobs(db, user_id, dataset_id, 10)

    assert _list(user_id, limit="10").body["data"]["next_cursor"] is None
    assert _list(user_id, limit="9").body["data"]["next_cursor"] is not None


def _tampered(cursor: str) -> str:
    payload, signature = cursor.split(".")
    flipped = "A" if payload[5] != "A" else "B"
    return f"{payload[:5]}{flipped}{payload[6:]}.{signature}"


@pytest.mark.parametrize(
    "kind", ["tampered", "truncated", "garbage", "foreign", "page-and-cursor", "other-status"]
)
def test_bad_cursor_is_refused_and_never_selects_data(
    db: psycopg.Connection[DictRow], user_id: UUID, dataset_id: UUID, kind: str
) -> None:
    _jobs(db, user_id, dataset_id, 4)
    stranger = uuid4()
    _jobs(db, stranger, insert_dataset(db, user_id=stranger), 4)
    mine = _list(user_id, limit="2").body["data"]["next_cursor"]
    theirs = _list(stranger, limit="2").body["data"]["next_cursor"]
    query = {
        "tampered": {"cursor": _tampered(mine)},
        "truncated": {"cursor": mine[:-3]},
        "garbage": {"cursor": "not-a-cursor"},
        "foreign": {"cursor": theirs},
        "page-and-cursor": {"cursor": mine, "page": "2"},
        "other-status": {"cursor": mine, "status": "failed"},
    }[kind]

    response = _list(user_id, **query)

    assert response.status == 400
    assert response.body["error"] == "Validation error"
    assert list(response.body["details"]) == ["cursor"]


def test_totals_follow_status_changes_made_by_anyone(
    db: psycopg.Connection[DictRow], user_id: UUID, dataset_id: UUID
) -> None:
    job_ids = [insert_job(db, user_id=user_id, dataset_id=dataset_id) for _ in range(4)]
    db.execute("update lora_training_jobs set status = 'running' where id = any(%s)", (job_ids[:3],))
    db.execute("update lora_training_jobs set status = 'running' where id = %s", (job_ids[0],))  # no change
    db.execute("delete from lora_training_jobs where id = %s", (job_ids[3],))

    def total(**query: str) -> int:
        return int(_list(user_id, **query).body["data"]["pagination"]["total"])

    assert (total(), total(status="running"), total(status="queued")) == (3, 3, 0)
    counts = db.execute("select status, count from job_counts where user_id = %s order by status", (user_id,))
    assert counts.fetchall() == [{"status": "queued", "count": 0}, {"status": "running", "count": 3}]


def test_a_cursor_with_another_limit_is_refused_never_a_page_missing_rows(
    db: psycopg.Connection[DictRow], user_id: UUID, dataset_id: UUID
) -> None:
    _jobs(db, user_id, dataset_id, 12)
    cursor = _list(user_id, limit="5").body["data"]["next_cursor"]

    response = _list(user_id, cursor=cursor, limit="3")

    assert response.status == 400
    assert response.body == {
        "error": "Validation error",
        "details": {"limit": ["The cursor was issued for limit=5; send that limit or none"]},
    }


def test_a_cursor_without_a_limit_continues_with_its_own(
    db: psycopg.Connection[DictRow], user_id: UUID, dataset_id: UUID
) -> None:
    newest_first = [str(i) for i in _jobs(db, user_id, dataset_id, 12)]
    first = _list(user_id, limit="5").body["data"]

    second = _list(user_id, cursor=first["next_cursor"]).body["data"]

    assert [job["id"] for job in second["jobs"]] == newest_first[5:10]
    assert second["pagination"] == {"page": 2, "limit": 5, "total": 12, "totalPages": 3}


def test_a_page_and_its_total_come_from_one_snapshot_while_jobs_are_created(
    db: psycopg.Connection[DictRow], user_id: UUID, dataset_id: UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the page's query and the count's, another transaction commits a job: both must still
    describe the same moment. The interleaving is forced: the count waits on an advisory lock that a
    second connection holds until it has committed the new job."""
    import threading

    from pipeline.jobs import repository as jobs_repository
    from tests.services import owner_database_url

    _jobs(db, user_id, dataset_id, 3)
    lock = 771_204
    holder = psycopg.connect(owner_database_url(), autocommit=True)
    holder.execute("select pg_advisory_lock(%s)", (lock,))
    barrier = f"select pg_advisory_lock_shared({lock}), pg_advisory_unlock_shared({lock})"
    list_for_user = jobs_repository.list_for_user

    def with_a_wait_before_the_count(conn: Any, *args: Any, **kwargs: Any) -> Any:
        execute = conn.execute

        def execute_waiting_before_count(query: Any, *rest: Any, **options: Any) -> Any:
            if query is jobs_repository._COUNT_FOR_USER:
                execute(barrier)  # its own statement: under READ COMMITTED the count's snapshot comes after
            return execute(query, *rest, **options)

        conn.execute = execute_waiting_before_count
        try:
            return list_for_user(conn, *args, **kwargs)
        finally:
            del conn.execute

    monkeypatch.setattr(jobs_repository, "list_for_user", with_a_wait_before_the_count)

    def commit_a_job_while_the_count_waits() -> None:
        with psycopg.connect(owner_database_url(), autocommit=True) as watcher:
            while not watcher.execute(
                "select 1 from pg_stat_activity where wait_event_type = 'Lock' and query like %s",
                ("%pg_advisory_lock_shared%",),
            ).fetchone():
                pass
            insert_job(watcher, user_id=user_id, dataset_id=dataset_id)  # type: ignore[arg-type]
        holder.execute("select pg_advisory_unlock(%s)", (lock,))

    writer = threading.Thread(target=commit_a_job_while_the_count_waits)
    writer.start()
    try:
        response = _list(user_id, limit="10")
    finally:
        writer.join(timeout=30)
        holder.close()

    assert response.status == 200, response.body
    data = response.body["data"]
    assert len(data["jobs"]) == data["pagination"]["total"] == 3
    assert db.execute("select count(*) as n from lora_training_jobs").fetchone() == {"n": 4}

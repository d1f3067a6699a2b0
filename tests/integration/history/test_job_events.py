"""GET /jobs/{job_id}/events: the feed oldest first, each event exactly once while new ones arrive, and
a cursor that only ever goes on in its own job."""

import json
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg.rows import DictRow

from functions.job_events import app as job_events_app
from pipeline.artifacts.locations import job_prefix
from pipeline.db.database import Database
from pipeline.workers import reports as job_reports
from tests.api_client import ApiResponse, build_event, invoke
from tests.factories import RecordedStops, insert_dataset, insert_job


def _job(db: psycopg.Connection[DictRow]) -> tuple[UUID, UUID]:
    user_id = uuid4()
    dataset_id = insert_dataset(db, user_id=user_id)
    return user_id, insert_job(db, user_id=user_id, dataset_id=dataset_id, status="initializing")


def _report(job: tuple[UUID, UUID], sequence: int, kind: str = "progress", **fields: Any) -> str:
    body = {
        "type": f"training_job.{kind}", "version": 1, "job_id": str(job[1]), "user_id": str(job[0]),
        "sequence": sequence, "sent_at": "2026-12-02T12:00:00Z",
    }  # fmt: skip
    if kind != "started":
        body |= {"step": 0, "epoch": 0, "gpu_seconds": 0}
    return json.dumps(body | fields)


def _feed(job: tuple[UUID, UUID], **query: str) -> ApiResponse:
    event = build_event("job_events", sub=job[0], path=f"/jobs/{job[1]}/events", query=query)
    return invoke(job_events_app, event)


def _tail(
    job: tuple[UUID, UUID], cursor: str | None, limit: int = 2
) -> tuple[list[dict[str, Any]], str | None]:
    """Every page from `cursor` on, as a client tails the feed."""
    seen: list[dict[str, Any]] = []
    while True:
        answer = _feed(job, limit=str(limit), **({"cursor": cursor} if cursor else {}))
        assert answer.status == 200, answer.raw_body
        data = answer.body["data"]
        seen.extend(data["events"])
        cursor = data["next_cursor"]
        if not data["has_more"]:
            return seen, cursor


def test_the_feed_gives_each_event_once_oldest_first_while_new_ones_arrive(
    db: psycopg.Connection[DictRow], worker_db: Database
) -> None:
    job = _job(db)
    assert _feed(job).body["data"] == {"events": [], "next_cursor": None, "has_more": False}
    job_reports.apply_report(worker_db, _report(job, 1, "started", worker_id="w"), RecordedStops())
    for sequence, step in ((2, 10), (3, 50), (4, 70)):  # 8 %, 40 %, 56 % of 125 steps: three milestones
        job_reports.apply_report(
            worker_db, _report(job, sequence, step=step, gpu_seconds=step * 10), RecordedStops()
        )

    first, cursor = _tail(job, None)
    job_reports.apply_report(
        worker_db,
        _report(
            job,
            5,
            "completed",
            step=125,
            gpu_seconds=1250,
            artifact_key=f"{job_prefix(*job)}adapter/a.safetensors",
        ),
        RecordedStops(),
    )
    later, _ = _tail(job, cursor)

    kinds = [event["type"] for event in first + later]
    assert kinds == ["status_changed", "progress", "progress", "progress", "status_changed", "cost"]
    ids = [event["id"] for event in first + later]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert first[0]["data"] == {"from": "initializing", "to": "running", "worker_id": "w"}
    assert [event["data"]["step"] for event in first[1:]] == [10, 50, 70]
    assert later[-1]["data"]["final"] is True
    assert all(event["created_at"].endswith("Z") for event in first + later)


def test_the_last_cursor_waits_for_what_comes_next(
    db: psycopg.Connection[DictRow], worker_db: Database
) -> None:
    job = _job(db)
    job_reports.apply_report(worker_db, _report(job, 1, "started", worker_id="w"), RecordedStops())
    _, cursor = _tail(job, None)
    assert cursor is not None

    nothing_yet = _feed(job, cursor=cursor).body["data"]
    assert (nothing_yet["events"], nothing_yet["next_cursor"], nothing_yet["has_more"]) == ([], cursor, False)


@pytest.mark.parametrize(
    "query",
    [{"cursor": "not-a-cursor"}, {"limit": "0"}, {"limit": "201"}],
    ids=["garbage-cursor", "limit-zero", "limit-too-large"],
)
def test_a_bad_query_is_a_400_naming_the_field(
    db: psycopg.Connection[DictRow], query: dict[str, str]
) -> None:
    answer = _feed(_job(db), **query)

    assert answer.status == 400
    assert list(answer.body["details"]) == list(query)


def test_another_jobs_cursor_is_refused(db: psycopg.Connection[DictRow], worker_db: Database) -> None:
    mine, theirs = _job(db), _job(db)
    job_reports.apply_report(worker_db, _report(theirs, 1, "started", worker_id="w"), RecordedStops())
    _, their_cursor = _tail(theirs, None)
    assert their_cursor is not None

    answer = _feed(mine, cursor=their_cursor)

    assert (answer.status, answer.body["details"]) == (400, {"cursor": ["Invalid cursor"]})


def test_another_users_job_or_no_job_is_not_found(db: psycopg.Connection[DictRow]) -> None:
    _, job_id = _job(db)
    for path in (f"/jobs/{job_id}/events", f"/jobs/{uuid4()}/events", "/jobs/nope/events"):
        answer = invoke(job_events_app, build_event("job_events", sub=uuid4(), path=path))
        assert (answer.status, answer.body) == (404, {"error": "Training job not found"}), path

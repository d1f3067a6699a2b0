"""The outbox relay: every job's message reaches the queue, even when SQS was down at creation."""

import json
import logging
import threading
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg.rows import DictRow

from functions.cancel_job import app as cancel_job_app
from functions.create_job import app as create_job_app
from functions.job_dispatcher import app as dispatcher_app
from functions.outbox_relay import app as relay_app
from pipeline.aws.sns_publisher import ControlTopicSettings, SnsControlPublisher
from pipeline.aws.sqs_publisher import (
    QueueSettings,
    SqsJobPublisher,
    WorkerTasksQueueSettings,
    worker_tasks_publisher,
)
from pipeline.db.database import Database, DatabaseSettings
from pipeline.outbox import relay as outbox_relay
from pipeline.outbox.relay import RelaySettings
from pipeline.outbox.repository import Destination, OutboxMessage
from tests.api_client import FakeLambdaContext, build_event, invoke, load_event
from tests.factories import create_body, insert_dataset, insert_job
from tests.services import QueueReader

UNREACHABLE_SQS = QueueSettings(JOBS_QUEUE_URL="http://127.0.0.1:9/queue", AWS_REGION="us-east-1")


@pytest.fixture
def relay_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """The relay takes rows as soon as they are committed (in Lambda it waits OUTBOX_MIN_AGE_SECONDS)."""
    monkeypatch.setattr(relay_app, "settings", RelaySettings(OUTBOX_MIN_AGE_SECONDS=0))


@pytest.fixture
def sqs_down(monkeypatch: pytest.MonkeyPatch) -> None:
    # Connections to port 9 are refused: both the API and the relay find SQS unreachable.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    unreachable = SqsJobPublisher(UNREACHABLE_SQS)
    monkeypatch.setattr(create_job_app, "publisher", unreachable)
    monkeypatch.setitem(relay_app.publishers, Destination.JOBS, unreachable)


def _run_relay() -> dict[str, Any]:
    return relay_app.lambda_handler(load_event("outbox_relay"), FakeLambdaContext())  # type: ignore[no-any-return]


def _create_jobs(db: psycopg.Connection[DictRow], count: int) -> list[str]:
    user_id = uuid4()
    body = create_body(insert_dataset(db, user_id=user_id))
    job_ids = []
    for _ in range(count):
        response = invoke(create_job_app, build_event("create_job", sub=user_id, body=body))
        assert response.status == 201, response.raw_body
        job_ids.append(response.body["data"]["id"])
    return job_ids


def _pending(db: psycopg.Connection[DictRow]) -> int:
    row = db.execute("select count(*) as n from job_queue_outbox where sent_at is null").fetchone()
    assert row is not None
    return int(row["n"])


def test_jobs_created_while_sqs_is_down_all_reach_the_queue_exactly_once_after_it_is_back(
    db: psycopg.Connection[DictRow],
    sqs_queue: QueueReader,
    relay_now: None,
    sqs_down: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job_ids = _create_jobs(db, 100)
    assert _pending(db) == 100
    assert sqs_queue.receive_all() == []

    monkeypatch.delenv("AWS_ENDPOINT_URL")
    monkeypatch.setitem(relay_app.publishers, Destination.JOBS, SqsJobPublisher(QueueSettings.from_env()))
    db.execute("update job_queue_outbox set next_attempt_at = now()")  # no backoff is pending here
    first = _run_relay()

    messages = sqs_queue.receive_all()
    assert sorted(json.loads(m["Body"])["job_id"] for m in messages) == sorted(job_ids)
    assert first == {"sent": 100, "failed": 0, "backlog": 0}
    assert _pending(db) == 0

    assert _run_relay() == {"sent": 0, "failed": 0, "backlog": 0}
    assert sqs_queue.receive_all() == []


def test_failed_send_backs_off_the_rows_and_records_the_error(
    db: psycopg.Connection[DictRow], relay_now: None, sqs_down: None
) -> None:
    _create_jobs(db, 3)

    assert _run_relay() == {"sent": 0, "failed": 3, "backlog": 3}

    rows = db.execute(
        "select attempts, last_error, next_attempt_at > now() + interval '1 second' as backed_off"
        " from job_queue_outbox"
    ).fetchall()
    assert rows == [{"attempts": 1, "last_error": "EndpointConnectionError", "backed_off": True}] * 3
    # Backed off: an immediate second run does not try again.
    assert _run_relay() == {"sent": 0, "failed": 0, "backlog": 3}


def test_rows_younger_than_the_minimum_age_are_left_to_the_api(
    db: psycopg.Connection[DictRow], sqs_down: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _create_jobs(db, 2)
    monkeypatch.setattr(relay_app, "settings", RelaySettings(OUTBOX_MIN_AGE_SECONDS=60))

    assert _run_relay() == {"sent": 0, "failed": 0, "backlog": 2}
    assert db.execute("select max(attempts) as a from job_queue_outbox").fetchone() == {"a": 0}


class RecordingPublisher:
    """Records what each relay sends; optionally refuses some rows or waits inside the send."""

    def __init__(self, refuse: set[int] | None = None, pause: threading.Event | None = None) -> None:
        self.batches: list[list[int]] = []
        self.refuse = refuse or set()
        self.pause = pause

    def publish_batch(self, messages: list[OutboxMessage]) -> dict[int, str]:
        self.batches.append([m.id for m in messages])
        if self.pause is not None:
            self.pause.wait(timeout=10)
        return {m.id: "InvalidMessageContents" for m in messages if m.id in self.refuse}


def _outbox_ids(db: psycopg.Connection[DictRow]) -> list[int]:
    return [int(row["id"]) for row in db.execute("select id from job_queue_outbox order by created_at, id")]


def test_rows_are_sent_in_creation_order_in_batches_of_ten(
    db: psycopg.Connection[DictRow], sqs_down: None
) -> None:
    _create_jobs(db, 23)
    publisher = RecordingPublisher()

    result = outbox_relay.relay_unsent(relay_app.database, {Destination.JOBS: publisher}, min_age_s=0)

    assert [len(batch) for batch in publisher.batches] == [10, 10, 3]
    assert [i for batch in publisher.batches for i in batch] == _outbox_ids(db)
    assert (result.sent, result.failed, result.backlog.pending) == (23, 0, 0)


def test_entries_sqs_refuses_stay_pending_while_the_rest_are_marked_sent(
    db: psycopg.Connection[DictRow], sqs_down: None
) -> None:
    _create_jobs(db, 4)
    refused = _outbox_ids(db)[1]

    result = outbox_relay.relay_unsent(
        relay_app.database, {Destination.JOBS: RecordingPublisher(refuse={refused})}, min_age_s=0
    )

    assert (result.sent, result.failed) == (3, 1)
    rows = db.execute("select id, sent_at is not null as sent, last_error from job_queue_outbox").fetchall()
    assert {row["id"]: (row["sent"], row["last_error"]) for row in rows}[refused] == (
        False,
        "InvalidMessageContents",
    )


def test_two_relays_at_once_never_send_the_same_row(db: psycopg.Connection[DictRow], sqs_down: None) -> None:
    _create_jobs(db, 15)
    url = relay_app.database._settings.database_url  # pipeline_worker, as the relay
    first_in_send = threading.Event()
    release = threading.Event()

    class SlowFirst(RecordingPublisher):
        def publish_batch(self, messages: list[OutboxMessage]) -> dict[int, str]:
            first_in_send.set()
            return super().publish_batch(messages)

    slow, fast = SlowFirst(pause=release), RecordingPublisher()
    slow_db, fast_db = (Database(DatabaseSettings(DATABASE_URL=url)) for _ in range(2))
    slow_run = threading.Thread(
        target=outbox_relay.relay_unsent, args=(slow_db, {Destination.JOBS: slow}), kwargs={"min_age_s": 0}
    )
    slow_run.start()
    assert first_in_send.wait(timeout=10)
    # While the first relay holds its batch of 10, the second one takes the remaining 5.
    outbox_relay.relay_unsent(fast_db, {Destination.JOBS: fast}, min_age_s=0)
    release.set()
    slow_run.join(timeout=10)

    sent = [i for p in (slow, fast) for batch in p.batches for i in batch]
    assert sorted(sent) == _outbox_ids(db)
    assert len(slow.batches[0]) == 10
    assert [len(b) for b in fast.batches] == [5]
    slow_db.close()
    fast_db.close()


def test_relay_reports_backlog_and_oldest_pending_age_as_metrics(
    db: psycopg.Connection[DictRow], relay_now: None, sqs_down: None, capsys: pytest.CaptureFixture[str]
) -> None:
    _create_jobs(db, 2)
    db.execute("update job_queue_outbox set created_at = now() - interval '90 seconds'")
    capsys.readouterr()

    _run_relay()

    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert len(emf) == 1
    assert emf[0]["OutboxBacklog"] == [2.0]
    assert 90 <= emf[0]["OutboxOldestPendingAge"][0] < 120
    units = {m["Name"]: m["Unit"] for m in emf[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert units["OutboxOldestPendingAge"] == "Seconds"


def test_relay_logs_a_run_only_when_it_had_work(
    db: psycopg.Connection[DictRow], relay_now: None, sqs_down: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _run_relay()  # nothing pending: idle
    idle = [(r.levelname, r.__dict__.get("failed")) for r in caplog.records if r.msg == "outbox relay run"]

    _create_jobs(db, 1)  # SQS is down: its message waits in the outbox
    caplog.clear()
    _run_relay()
    busy = [(r.levelname, r.__dict__.get("failed")) for r in caplog.records if r.msg == "outbox relay run"]

    assert idle == []  # below the service's INFO level, as in Lambda
    assert busy == [("INFO", 1)]


def test_job_ids_in_outbox_match_created_jobs(db: psycopg.Connection[DictRow], sqs_down: None) -> None:
    job_ids = _create_jobs(db, 2)

    rows = db.execute("select job_id, body from job_queue_outbox order by id").fetchall()

    assert [str(row["job_id"]) for row in rows] == job_ids
    assert [json.loads(row["body"])["job_id"] for row in rows] == job_ids
    assert [str(UUID(job_id)) for job_id in job_ids] == job_ids  # canonical UUIDs, as the jobs have


def test_messages_for_every_destination_sent_while_aws_was_down_each_reach_their_own_place(
    db: psycopg.Connection[DictRow],
    sqs_queue: QueueReader,
    worker_tasks_queue: QueueReader,
    worker_control_queue: QueueReader,
    relay_now: None,
    sqs_down: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Built while AWS_ENDPOINT_URL points at a closed port: every send after commit fails.
    monkeypatch.setattr(
        dispatcher_app,
        "workers",
        worker_tasks_publisher(
            WorkerTasksQueueSettings(
                WORKER_TASKS_QUEUE_URL="http://127.0.0.1:9/pipeline-worker-tasks.fifo", AWS_REGION="us-east-1"
            )
        ),
    )
    monkeypatch.setattr(cancel_job_app, "workers", SnsControlPublisher(ControlTopicSettings.from_env()))
    (queued_id,) = _create_jobs(db, 1)
    queued_row = db.execute("select body from job_queue_outbox where job_id = %s", (queued_id,)).fetchone()
    assert queued_row is not None
    record = load_event("job_dispatcher")["Records"][0] | {"body": queued_row["body"]}
    assert dispatcher_app.lambda_handler({"Records": [record]}, FakeLambdaContext()) == {
        "batchItemFailures": []
    }
    user_id = uuid4()
    running_id = insert_job(
        db, user_id=user_id, dataset_id=insert_dataset(db, user_id=user_id), status="running"
    )
    cancelled = invoke(
        cancel_job_app, build_event("cancel_job", sub=user_id, path=f"/jobs/{running_id}/cancel")
    )
    assert cancelled.status == 200, cancelled.raw_body
    pending = db.execute(
        "select destination, message_type from job_queue_outbox where sent_at is null order by id"
    ).fetchall()
    assert pending == [
        {"destination": "jobs", "message_type": "training_job.queued"},
        {"destination": "worker_tasks", "message_type": "training_job.assigned"},
        {"destination": "worker_control", "message_type": "training_job.cancel_requested"},
    ]

    monkeypatch.delenv("AWS_ENDPOINT_URL")
    monkeypatch.setitem(relay_app.publishers, Destination.JOBS, SqsJobPublisher(QueueSettings.from_env()))
    assert _run_relay() == {"sent": 3, "failed": 0, "backlog": 0}
    assert _run_relay() == {"sent": 0, "failed": 0, "backlog": 0}

    (queued,) = sqs_queue.receive_all()
    assert json.loads(queued["Body"])["job_id"] == queued_id
    (assigned,) = worker_tasks_queue.receive_all()
    assert (json.loads(assigned["Body"])["type"], json.loads(assigned["Body"])["job_id"]) == (
        "training_job.assigned",
        queued_id,
    )
    (control,) = worker_control_queue.receive_all()
    assert (json.loads(control["Body"])["type"], json.loads(control["Body"])["job_id"]) == (
        "training_job.cancel_requested",
        str(running_id),
    )

"""Webhook deliveries end to end below the API: a job's change of status, recorded by the reports
consumer, writes its deliveries and their outbox rows in the same transaction; the relay puts them on
the (moto) deliveries queue; the delivery function posts each to a real HTTP receiver on 127.0.0.1,
which verifies the signature with the Standard Webhooks reference library.

Receivers here are on loopback, so these deliveries run with the local stack's setting (loopback
allowed); the refusals run with the deployed one."""

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg.rows import DictRow
from standardwebhooks import WebhookVerificationError

from functions.create_webhook import app as create_webhook_app
from functions.list_webhook_deliveries import app as list_webhook_deliveries_app
from functions.webhook_delivery import app as webhook_delivery_app
from local.queue_consumers import sqs_event
from local.webhook_receiver import WebhookReceiver
from pipeline.artifacts.locations import job_prefix
from pipeline.aws.sqs_publisher import WebhookDeliveriesQueueSettings, webhook_deliveries_publisher
from pipeline.aws.webhook_deliveries_queue import DeliveryQueueSettings, SqsDeliveryQueue
from pipeline.db.database import Database
from pipeline.outbox import relay as outbox_relay
from pipeline.outbox.repository import Destination
from pipeline.runtime.queue_consumer import LeaveForRetry
from pipeline.webhooks import delivery as webhook_delivery
from pipeline.webhooks import endpoints as webhook_endpoints
from pipeline.webhooks import transport as webhook_http
from pipeline.webhooks.delivery import DeliverySettings, Outcome
from pipeline.webhooks.models import CreateWebhookRequest
from pipeline.workers import reports as job_reports
from tests.api_client import FakeLambdaContext, build_event, invoke, load_event
from tests.factories import RecordedStops, insert_dataset, insert_job
from tests.services import QueueReader, local_queues

ALL_EVENTS = ["job.status_changed", "job.completed", "job.failed", "job.cancelled"]
LOCAL = DeliverySettings(WEBHOOKS_ALLOW_LOCAL_RECEIVERS=True, WEBHOOK_RETRY_SCHEDULE_SECONDS="1,1")
Job = tuple[UUID, UUID]


@pytest.fixture
def deliveries_queue() -> Iterator[QueueReader]:
    """The deliveries queue and its dead-letter queue, this test's own: a retry hides its message for a
    while, and an earlier test's hidden message must not come back into this one."""
    with (
        QueueReader(local_queues().webhook_deliveries_dlq).owned(),
        QueueReader(local_queues().webhook_deliveries).owned() as reader,
    ):
        yield reader


@pytest.fixture
def receiver() -> Iterator[tuple[WebhookReceiver, str]]:
    hooks = WebhookReceiver()
    with hooks.serving() as url:
        yield hooks, url


def _job(db: psycopg.Connection[DictRow]) -> Job:
    user_id = uuid4()
    dataset_id = insert_dataset(db, user_id=user_id)
    return user_id, insert_job(db, user_id=user_id, dataset_id=dataset_id, status="initializing")


def _register(user_id: UUID, url: str, events: list[str] | None = None) -> dict[str, Any]:
    """An endpoint as POST /webhooks registers it, with the local stack's loopback setting."""
    request = CreateWebhookRequest.model_validate({"url": url, "events": events or ALL_EVENTS})
    created = webhook_endpoints.create(
        create_webhook_app.database, user_id, request, allow_local=True, resolve=lambda host, port: []
    )
    return created.model_dump(mode="json")


def _report(job: Job, sequence: int, kind: str, **fields: Any) -> str:
    user_id, job_id = job
    base = {"type": f"training_job.{kind}", "version": 1, "job_id": str(job_id), "user_id": str(user_id)}
    return json.dumps(base | {"sequence": sequence, "sent_at": "2026-12-04T12:00:00Z"} | fields)


def _run_to_completion(worker_db: Database, job: Job) -> None:
    reports = [
        _report(job, 1, "started", worker_id="gpu-1"),
        _report(
            job, 2, "completed", step=125, epoch=1, gpu_seconds=1500,
            artifact_key=f"{job_prefix(*job)}adapter/adapter.safetensors",
        ),
    ]  # fmt: skip
    assert [job_reports.apply_report(worker_db, body, RecordedStops()) for body in reports] == [
        job_reports.Outcome.APPLIED
    ] * 2


def _relay(worker_db: Database) -> int:
    publisher = webhook_deliveries_publisher(WebhookDeliveriesQueueSettings.from_env())
    return outbox_relay.relay_unsent(worker_db, {Destination.WEBHOOKS: publisher}, min_age_s=10).sent


def _completed(
    db: psycopg.Connection[DictRow], worker_db: Database, url: str, events: list[str] | None = None
) -> tuple[Job, dict[str, Any]]:
    """A job whose user registered `url`, run to completion, its deliveries relayed onto the queue."""
    job = _job(db)
    endpoint = _register(job[0], url, events=events or ["job.completed"])
    _run_to_completion(worker_db, job)
    _relay(worker_db)
    return job, endpoint


def _queue() -> SqsDeliveryQueue:
    return SqsDeliveryQueue(DeliveryQueueSettings.from_env())


def _deliver(
    worker_db: Database,
    reader: QueueReader,
    *,
    settings: DeliverySettings = LOCAL,
    resolve: Callable[[str, int], list[str]] = lambda host, port: [],
    wait_s: int = 0,
) -> list[Outcome]:
    """Receive what is on the deliveries queue and hand each message to the delivery function's record
    handler, deleting the ones it acknowledged, as Lambda's poller does."""
    received = reader.client.receive_message(
        QueueUrl=reader.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_s, AttributeNames=["All"]
    ).get("Messages", [])
    outcomes = []
    for message in received:
        try:
            outcome = webhook_delivery.handle_record(
                worker_db,
                message["Body"],
                message["ReceiptHandle"],
                queue=_queue(),
                settings=settings,
                resolve=resolve,
            )
        except LeaveForRetry as retry:
            outcomes.append(Outcome(retry.outcome))
            continue
        reader.client.delete_message(QueueUrl=reader.queue_url, ReceiptHandle=message["ReceiptHandle"])
        outcomes.append(outcome)
    return outcomes


def _delivery_rows(db: psycopg.Connection[DictRow], job_id: UUID) -> list[dict[str, Any]]:
    return [
        dict(row)
        for row in db.execute(
            "select id, event_type, status, attempts, last_response_status, last_error"
            " from webhook_deliveries where job_id = %s order by seq",
            (job_id,),
        ).fetchall()
    ]


def test_a_completed_job_sends_signed_events_that_the_reference_library_verifies(
    db: psycopg.Connection[DictRow],
    worker_db: Database,
    deliveries_queue: QueueReader,
    receiver: tuple[WebhookReceiver, str],
) -> None:
    hooks, url = receiver
    job = _job(db)
    endpoint = _register(job[0], f"{url}/hooks?team=ml")

    _run_to_completion(worker_db, job)
    rows = _delivery_rows(db, job[1])
    assert [(row["event_type"], row["status"]) for row in rows] == [
        ("job.status_changed", "pending"),  # initializing -> running
        ("job.status_changed", "pending"),  # running -> completed
        ("job.completed", "pending"),
    ]
    outbox = db.execute(
        "select count(*) as n from job_queue_outbox where destination = 'webhooks' and job_id = %s", (job[1],)
    ).fetchone()
    assert outbox == {"n": 3}  # written with the deliveries, in the reports' transactions

    assert _relay(worker_db) == 3  # at once: no writer sends these after commit
    assert sorted(_deliver(worker_db, deliveries_queue)) == [Outcome.DELIVERED] * 3

    arrived = hooks.wait_for(3, timeout_s=5)
    assert len(arrived) == 3
    verified = {
        request.headers["webhook-id"]: request.verified_with(endpoint["secret"]) for request in arrived
    }
    assert set(verified) == {f"msg_{row['id'].hex}" for row in rows}
    assert {request.path for request in arrived} == {"/hooks?team=ml"}
    completed = next(payload for payload in verified.values() if payload["type"] == "job.completed")
    assert completed["data"] | {"started_at": None, "completed_at": None} == {
        "job_id": str(job[1]),
        "status": "completed",
        "previous_status": "running",
        "dataset_id": completed["data"]["dataset_id"],
        "progress": 100,
        "current_cost": 2.25,  # 1500 GPU-seconds on one H100 at $4.20 an hour, and storage
        "estimated_total_cost": 1.23,
        "error_code": None,
        "error_message": None,
        "started_at": None,
        "completed_at": None,
        "adapter_available": True,
        "max_cost": None,
        "stop_reason": None,
    }
    assert arrived[0].headers["content-type"] == "application/json"
    assert [row["status"] for row in _delivery_rows(db, job[1])] == ["delivered"] * 3


def test_an_endpoint_gets_only_the_events_it_subscribed_to(
    db: psycopg.Connection[DictRow], worker_db: Database, deliveries_queue: QueueReader
) -> None:
    job = _job(db)
    _register(job[0], "http://127.0.0.1:9/only-failures", events=["job.failed"])
    other = _job(db)
    _register(other[0], "http://127.0.0.1:9/someone-else")

    _run_to_completion(worker_db, job)
    assert _delivery_rows(db, job[1]) == []
    assert db.execute(
        "select count(*) as n from job_queue_outbox where destination = 'webhooks'"
    ).fetchone() == {"n": 0}


def test_a_failing_receiver_is_retried_with_the_same_id_until_it_answers_2xx(
    db: psycopg.Connection[DictRow],
    worker_db: Database,
    deliveries_queue: QueueReader,
    receiver: tuple[WebhookReceiver, str],
) -> None:
    hooks, url = receiver
    hooks.answers = [500, 503]
    job, endpoint = _completed(db, worker_db, f"{url}/hooks")

    assert _deliver(worker_db, deliveries_queue) == [Outcome.RETRY]
    assert _deliver(worker_db, deliveries_queue) == []  # hidden until its retry is due (1 s)
    assert _deliver(worker_db, deliveries_queue, wait_s=3) == [Outcome.RETRY]
    assert _deliver(worker_db, deliveries_queue, wait_s=3) == [Outcome.DELIVERED]

    arrived = hooks.wait_for(3, timeout_s=5)
    assert len({request.headers["webhook-id"] for request in arrived}) == 1
    assert len({request.body for request in arrived}) == 1  # the same bytes, each attempt signed anew
    for request in arrived:
        request.verified_with(endpoint["secret"])

    listed = invoke(
        list_webhook_deliveries_app,
        build_event(
            "list_webhook_deliveries", sub=job[0], path=f"/webhooks/{endpoint['id']}/deliveries", query={}
        ),
    )
    assert listed.status == 200
    [delivery] = listed.body["data"]["deliveries"]
    assert delivery["id"] == arrived[0].headers["webhook-id"]
    assert (delivery["status"], delivery["attempts"], delivery["response_status"]) == ("delivered", 3, 200)
    assert [attempt["response_status"] for attempt in delivery["attempt_log"]] == [500, 503, 200]
    assert delivery["attempt_log"][0]["response_body"] == '{"received": false}'
    assert delivery["next_attempt_at"] is None
    assert delivery["delivered_at"] is not None
    assert listed.body["data"]["next_cursor"] is None


def test_after_the_last_attempt_fails_the_delivery_is_failed_and_its_message_dead_lettered(
    db: psycopg.Connection[DictRow],
    worker_db: Database,
    deliveries_queue: QueueReader,
    receiver: tuple[WebhookReceiver, str],
) -> None:
    hooks, url = receiver
    hooks.answers = [500] * 10
    job, _ = _completed(db, worker_db, f"{url}/down")
    two_attempts = DeliverySettings(WEBHOOKS_ALLOW_LOCAL_RECEIVERS=True, WEBHOOK_RETRY_SCHEDULE_SECONDS="0")

    assert _deliver(worker_db, deliveries_queue, settings=two_attempts) == [Outcome.RETRY]
    assert _deliver(worker_db, deliveries_queue, settings=two_attempts, wait_s=2) == [Outcome.GAVE_UP]

    [row] = _delivery_rows(db, job[1])
    assert (row["status"], row["attempts"], row["last_response_status"]) == ("failed", 2, 500)
    dead = QueueReader(local_queues().webhook_deliveries_dlq).receive_all()
    assert [json.loads(message["Body"])["delivery_id"] for message in dead] == [str(row["id"])]
    assert deliveries_queue.receive_all() == []


def test_a_host_that_now_resolves_to_a_private_address_is_not_contacted(
    db: psycopg.Connection[DictRow],
    worker_db: Database,
    deliveries_queue: QueueReader,
    receiver: tuple[WebhookReceiver, str],
) -> None:
    hooks, _ = receiver
    # Public when registered; at delivery its name answers with a private address (DNS rebinding).
    job, _ = _completed(db, worker_db, "https://hooks.example.com/in")

    outcomes = _deliver(
        worker_db, deliveries_queue, settings=DeliverySettings(), resolve=lambda host, port: ["10.0.0.5"]
    )

    assert outcomes == [Outcome.RETRY]
    [row] = _delivery_rows(db, job[1])
    assert row["last_error"] == "Not sent: hooks.example.com resolves to 10.0.0.5, not a public address"
    assert row["last_response_status"] is None
    assert hooks.received == []


def test_the_connection_goes_to_the_checked_address_under_the_urls_host_name(
    db: psycopg.Connection[DictRow],
    worker_db: Database,
    deliveries_queue: QueueReader,
    receiver: tuple[WebhookReceiver, str],
) -> None:
    hooks, url = receiver
    port = int(url.rsplit(":", 1)[1])
    _completed(db, worker_db, f"http://receiver.test:{port}/pinned")
    resolved: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        resolved.append(host)
        return ["::1", "127.0.0.1"]  # the receiver listens on IPv4 only: IPv4 is tried first

    assert _deliver(worker_db, deliveries_queue, resolve=resolve) == [Outcome.DELIVERED]
    # Resolved once, checked, and connected to: receiver.test resolves nowhere else.
    assert resolved == ["receiver.test"]
    assert hooks.wait_for(1, timeout_s=5)[0].headers["host"] == f"receiver.test:{port}"


def test_deployed_a_loopback_url_is_refused_at_delivery_by_the_function(
    db: psycopg.Connection[DictRow], worker_db: Database, deliveries_queue: QueueReader
) -> None:
    job, _ = _completed(db, worker_db, "http://127.0.0.1:9/local-only")  # as make run allows
    [message] = deliveries_queue.client.receive_message(
        QueueUrl=deliveries_queue.queue_url, AttributeNames=["All"]
    )["Messages"]

    # The function as deployed (WEBHOOKS_ALLOW_LOCAL_RECEIVERS unset: false).
    result = webhook_delivery_app.lambda_handler(
        sqs_event([message], "arn:aws:sqs:us-east-1:123456789012:webhooks", "us-east-1"),
        FakeLambdaContext(),
    )

    assert result == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}
    [row] = _delivery_rows(db, job[1])
    assert (row["attempts"], row["last_error"]) == (1, "Not sent: Only https:// URLs can receive webhooks")


def test_a_receiver_that_does_not_answer_in_time_is_cut_off(
    db: psycopg.Connection[DictRow], worker_db: Database, deliveries_queue: QueueReader
) -> None:
    silent = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(silent.accept()[0]), daemon=True).start()
    job, _ = _completed(db, worker_db, f"http://127.0.0.1:{silent.getsockname()[1]}/slow")
    quick = DeliverySettings(WEBHOOKS_ALLOW_LOCAL_RECEIVERS=True, WEBHOOK_TIMEOUT_SECONDS=0.5)

    try:
        started = time.monotonic()
        assert _deliver(worker_db, deliveries_queue, settings=quick) == [Outcome.RETRY]
        elapsed = time.monotonic() - started
    finally:
        silent.close()
    [row] = _delivery_rows(db, job[1])
    assert row["last_error"] == "No answer within 0.5 s"
    assert elapsed < 5  # cut off at its deadline, not left to hang (the bound is loose on purpose)


def test_a_redirect_is_not_followed_and_only_a_prefix_of_the_answer_is_kept(
    db: psycopg.Connection[DictRow],
    worker_db: Database,
    deliveries_queue: QueueReader,
    receiver: tuple[WebhookReceiver, str],
) -> None:
    hooks, url = receiver
    hooks.answers = [302]
    hooks.answer_body = b"x" * 10_000
    _, endpoint = _completed(db, worker_db, f"{url}/moved")

    assert _deliver(worker_db, deliveries_queue) == [Outcome.RETRY]
    assert len(hooks.wait_for(1, timeout_s=5)) == 1
    attempt = db.execute(
        "select response_status, response_body from webhook_delivery_attempts a"
        " join webhook_deliveries d on d.id = a.delivery_id where d.endpoint_id = %s",
        (endpoint["id"],),
    ).fetchone()
    assert attempt == {"response_status": 302, "response_body": "x" * 512}


def test_a_deleted_endpoint_gets_nothing_more(
    db: psycopg.Connection[DictRow],
    worker_db: Database,
    deliveries_queue: QueueReader,
    receiver: tuple[WebhookReceiver, str],
) -> None:
    hooks, url = receiver
    job, endpoint = _completed(db, worker_db, f"{url}/gone")
    webhook_endpoints.delete(create_webhook_app.database, job[0], endpoint["id"])

    assert _deliver(worker_db, deliveries_queue) == [Outcome.GONE]
    assert hooks.received == []
    assert _delivery_rows(db, job[1]) == []  # deleted with the endpoint


def test_a_rotated_out_secret_still_verifies_deliveries_for_a_day(
    db: psycopg.Connection[DictRow],
    worker_db: Database,
    deliveries_queue: QueueReader,
    receiver: tuple[WebhookReceiver, str],
) -> None:
    hooks, url = receiver
    job = _job(db)
    endpoint = _register(job[0], f"{url}/rotating", events=["job.completed"])
    rotated = webhook_endpoints.rotate_secret(
        create_webhook_app.database, job[0], endpoint["id"], datetime.now(UTC)
    )
    _run_to_completion(worker_db, job)
    _relay(worker_db)
    _deliver(worker_db, deliveries_queue)

    [request] = hooks.wait_for(1, timeout_s=5)
    assert request.verified_with(rotated.secret) == request.verified_with(endpoint["secret"])

    # Once its day is over, the old one no longer signs.
    db.execute(
        "update webhook_endpoints set previous_secret_expires_at = %s where id = %s",
        (datetime.now(UTC) - timedelta(seconds=1), endpoint["id"]),
    )
    later = (job[0], insert_job(db, user_id=job[0], dataset_id=insert_dataset(db, user_id=job[0]),
                                status="initializing"))  # fmt: skip
    _run_to_completion(worker_db, later)
    _relay(worker_db)
    _deliver(worker_db, deliveries_queue)
    second = hooks.wait_for(2, timeout_s=5)[1]
    assert second.verified_with(rotated.secret)["data"]["job_id"] == str(later[1])
    assert len(second.headers["webhook-signature"].split(" ")) == 1
    with pytest.raises(WebhookVerificationError):
        second.verified_with(endpoint["secret"])


def test_a_cancel_and_a_failure_send_their_own_event_types(
    db: psycopg.Connection[DictRow],
    worker_db: Database,
    deliveries_queue: QueueReader,
) -> None:
    from functions.cancel_job import app as cancel_job_app

    user_id = uuid4()
    dataset_id = insert_dataset(db, user_id=user_id)
    queued = insert_job(db, user_id=user_id, dataset_id=dataset_id, status="queued")
    running = insert_job(db, user_id=user_id, dataset_id=dataset_id, status="initializing")
    _register(user_id, "http://127.0.0.1:9/all")

    cancelled = invoke(cancel_job_app, build_event("cancel_job", sub=user_id, path=f"/jobs/{queued}/cancel"))
    assert cancelled.status == 200
    error = {"code": "out_of_memory", "message": "CUDA out of memory"}
    failure = _report((user_id, running), 1, "failed", step=0, epoch=0, gpu_seconds=60, error=error)
    assert job_reports.apply_report(worker_db, failure, RecordedStops()) is job_reports.Outcome.APPLIED

    types = db.execute(
        "select job_id, event_type, payload from webhook_deliveries where user_id = %s order by seq",
        (user_id,),
    ).fetchall()
    assert [(row["job_id"], row["event_type"]) for row in types] == [
        (queued, "job.status_changed"),
        (queued, "job.cancelled"),
        (running, "job.status_changed"),
        (running, "job.failed"),
    ]
    failed = json.loads(types[3]["payload"])
    assert failed["data"]["error_code"] == "out_of_memory"
    assert failed["data"]["previous_status"] == "initializing"
    assert json.loads(types[1]["payload"])["data"]["current_cost"] == 0


def test_a_host_that_does_not_resolve_is_retried_and_says_so(
    db: psycopg.Connection[DictRow], worker_db: Database, deliveries_queue: QueueReader
) -> None:
    job, _ = _completed(db, worker_db, "https://not-yet.example.com/in")

    def unresolved(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    assert _deliver(worker_db, deliveries_queue, settings=DeliverySettings(), resolve=unresolved) == [
        Outcome.RETRY
    ]
    [row] = _delivery_rows(db, job[1])
    assert (row["attempts"], row["last_error"]) == (1, "Not sent: not-yet.example.com did not resolve")


def test_a_repeated_message_of_a_delivered_delivery_posts_nothing_more(
    db: psycopg.Connection[DictRow],
    worker_db: Database,
    deliveries_queue: QueueReader,
    receiver: tuple[WebhookReceiver, str],
) -> None:
    hooks, url = receiver
    job, _ = _completed(db, worker_db, f"{url}/once")
    [message] = deliveries_queue.client.receive_message(QueueUrl=deliveries_queue.queue_url)["Messages"]
    handle = message["ReceiptHandle"]

    def resolve(host: str, port: int) -> list[str]:
        return []

    first = webhook_delivery.handle_record(
        worker_db, message["Body"], handle, queue=_queue(), settings=LOCAL, resolve=resolve
    )
    again = webhook_delivery.handle_record(  # SQS delivers at least once
        worker_db, message["Body"], handle, queue=_queue(), settings=LOCAL, resolve=resolve
    )

    assert (first, again) == (Outcome.DELIVERED, Outcome.GONE)
    assert len(hooks.wait_for(1, timeout_s=5)) == 1
    [row] = _delivery_rows(db, job[1])
    assert (row["status"], row["attempts"]) == ("delivered", 1)


def test_an_endpoint_deleted_while_its_delivery_is_posted_records_no_attempt(
    db: psycopg.Connection[DictRow], worker_db: Database, deliveries_queue: QueueReader
) -> None:
    job, endpoint = _completed(db, worker_db, "http://127.0.0.1:9/racing")
    posted: list[str] = []

    def post_then_delete(receiver: Any, address: Any, **kwargs: Any) -> webhook_http.Answer:
        posted.append(kwargs["headers"]["webhook-id"])
        webhook_endpoints.delete(create_webhook_app.database, job[0], endpoint["id"])
        return webhook_http.Answer(status=200, body_prefix="")

    [message] = deliveries_queue.client.receive_message(QueueUrl=deliveries_queue.queue_url)["Messages"]
    outcome = webhook_delivery.handle_record(
        worker_db,
        message["Body"],
        message["ReceiptHandle"],
        queue=_queue(),
        settings=LOCAL,
        resolve=lambda host, port: [],
        post=post_then_delete,
    )

    assert outcome is Outcome.GONE
    assert len(posted) == 1
    assert db.execute("select count(*) as n from webhook_delivery_attempts").fetchone() == {"n": 0}


def test_a_message_that_is_not_a_delivery_is_acknowledged_without_a_retry(worker_db: Database) -> None:
    event = load_event("webhook_delivery")
    event["Records"][0]["body"] = '{"type": "webhook.delivery_due", "version": 1}'

    assert webhook_delivery_app.lambda_handler(event, FakeLambdaContext()) == {"batchItemFailures": []}


def test_an_answer_holding_a_nul_byte_is_recorded_and_the_delivery_done(
    db: psycopg.Connection[DictRow],
    worker_db: Database,
    deliveries_queue: QueueReader,
    receiver: tuple[WebhookReceiver, str],
) -> None:
    # Text holds no NUL: the attempt's record failed, the delivery stayed pending and was posted again.
    hooks, url = receiver
    hooks.answer_body = b"ok\x00\xffdone"
    job, _ = _completed(db, worker_db, f"{url}/binary")

    assert _deliver(worker_db, deliveries_queue) == [Outcome.DELIVERED]

    [row] = _delivery_rows(db, job[1])
    assert (row["status"], row["attempts"]) == ("delivered", 1)
    attempt = db.execute(
        "select response_status, response_body from webhook_delivery_attempts where delivery_id = %s",
        (row["id"],),
    ).fetchone()
    assert attempt == {"response_status": 200, "response_body": "ok\ufffd\ufffddone"}

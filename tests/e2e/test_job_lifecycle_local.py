"""A job's whole life in `make run`: created over HTTP, claimed by the dispatcher, run by the simulated
GPU worker through the worker contract's queues and topic, reported back through the reports queue,
and followed over HTTP to its end: completed with its events and final cost, cancelled mid-run with
the charge for what it used, failed with its error."""

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest

from local.gpu_worker import Queues, SimulatedGpuWorker, WorkerSettings
from local.sqs_server import REPORTS_QUEUE, WORKER_CONTROL_HOST_QUEUE, WORKER_TASKS_QUEUE
from local.stack_process import Stack, http, run_cli, sqs_call
from local.webhook_receiver import WebhookReceiver

# Fast on 1 x A100-80GB: $3.50 per GPU-hour, 1,872 simulated seconds on the 5,000-pair dataset.
A100_PER_HOUR = Decimal("3.50")
STORAGE = Decimal("0.50")
FAST = {
    "preset_id": "fast",
    "gpu_config": {"type": "A100-80GB", "count": 1},
    "hyperparameters": {"batch_size": 8, "epochs": 1, "learning_rate": 0.0001, "rank": 8, "alpha": 16},
}
SPEED = "400"  # simulated seconds per real second: the 1,872 s run takes under 6 s


class User:
    def __init__(self, stack: Stack, name: str, *, pairs: int, tokens: int) -> None:
        self.stack = stack
        self.token = run_cli(stack.state_dir, "token", "--user", name).strip()
        self.dataset_id = run_cli(
            stack.state_dir, "dataset", "--user", name, "--pairs", str(pairs), "--tokens", str(tokens)
        ).strip()

    def call(self, method: str, path: str, body: Any = None) -> Any:
        answer = http(method, f"{self.stack.api}{path}", token=self.token, body=body)
        assert answer.status in (200, 201), (method, path, answer.status, answer.body)
        return answer.body["data"]

    def create_fast_job(self, base_model: str | None = None) -> dict[str, Any]:
        model = {} if base_model is None else {"base_model": base_model}
        estimate = self.call(
            "POST",
            "/jobs/estimate",
            {
                "dataset_id": self.dataset_id,
                "gpu_config": FAST["gpu_config"],
                "hyperparameters": FAST["hyperparameters"],
            }
            | model,
        )
        body = {"dataset_id": self.dataset_id, **FAST, **model, "estimated_cost": estimate["estimated_cost"]}
        job: dict[str, Any] = self.call("POST", "/jobs", body)
        return job

    def job_when(
        self, job_id: str, condition: Callable[[dict[str, Any]], bool], timeout_s: float
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            job: dict[str, Any] = self.call("GET", f"/jobs/{job_id}")
            if condition(job):
                return job
            assert time.monotonic() < deadline, f"job stuck at {job['status']} {job['progress']}%"
            time.sleep(0.2)

    def events(self, job_id: str) -> list[dict[str, Any]]:
        """The whole feed, tailed by cursor as a client does."""
        seen: list[dict[str, Any]] = []
        cursor = None
        while True:
            query = "limit=7" + (f"&cursor={cursor}" if cursor else "")
            page = self.call("GET", f"/jobs/{job_id}/events?{query}")
            seen.extend(page["events"])
            cursor = page["next_cursor"]
            if not page["has_more"]:
                return seen


def _gpu_cost(gpu_seconds: float) -> Decimal:
    return (Decimal(str(gpu_seconds)) * A100_PER_HOUR / 3600).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


@pytest.fixture(scope="module")
def worker_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack.start(tmp_path_factory.mktemp("worker-stack"), "--worker-speed", SPEED)
    yield running
    running.stop()


def test_a_created_job_runs_on_the_local_worker_to_completed_with_its_events_and_final_cost(
    worker_stack: Stack,
) -> None:
    user = User(worker_stack, "frank", pairs=5000, tokens=1_200_000)
    created = user.create_fast_job()

    job = user.job_when(created["id"], lambda j: j["status"] not in ("queued", "initializing", "running"), 60)

    assert job["status"] == "completed", job
    assert (job["progress"], job["current_step"], job["total_steps"]) == (100, 625, 625)
    assert (job["current_epoch"], job["total_epochs"]) == (1, 1)
    assert 1872 * 0.95 <= job["gpu_seconds"] <= 1872 * 1.1
    assert _money(job["current_cost"]) == _gpu_cost(job["gpu_seconds"]) + STORAGE
    assert job["completed_at"] is not None
    assert job["estimated_finish_at"] is None
    assert job["error"] is None

    events = user.events(created["id"])
    moves = [(e["data"]["from"], e["data"]["to"]) for e in events if e["type"] == "status_changed"]
    assert moves == [("queued", "initializing"), ("initializing", "running"), ("running", "completed")]
    kinds = [e["type"] for e in events]
    assert kinds[-2:] == ["status_changed", "cost"]
    assert kinds.index("checkpoint") > kinds.index("progress")
    steps = [e["data"]["step"] for e in events if e["type"] in ("progress", "checkpoint")]
    assert steps == sorted(steps)
    assert steps[-1] == 625
    progress = [e["data"]["progress"] for e in events if e["type"] == "progress"]
    assert len(progress) >= 3  # milestones every 5 %, not every report
    final = events[-1]["data"]
    assert (final["final"], _money(final["cost"])) == (True, _money(job["current_cost"]))
    assert _money(final["not_charged"]) == max(
        _money(job["estimated_total_cost"]) - _money(job["current_cost"]), Decimal(0)
    )
    assert [e["id"] for e in events] == sorted({e["id"] for e in events})

    chart = user.call("GET", f"/jobs/{created['id']}/metrics")
    points = chart["points"]
    assert chart["reported_points"] == len(points) >= 3
    assert points[0]["train_loss"] > points[-1]["train_loss"]  # the loss falls
    assert (points[-1]["step"], points[-1]["validation_loss"] is not None) == (625, True)

    # What it produced: its checkpoint, and the adapter, each fetched through its presigned URL from the
    # local S3 (moto) where the worker wrote it.
    saved = user.call("GET", f"/jobs/{created['id']}/checkpoints")
    assert [c["step"] for c in saved["checkpoints"]] == [625]
    assert saved["adapter_available"] is True
    for query, what in (("", "the final LoRA adapter"), ("?artifact=checkpoint&step=625", "the checkpoint")):
        link = user.call("GET", f"/jobs/{created['id']}/download{query}")
        with urllib.request.urlopen(link["url"], timeout=10) as response:  # noqa: S310 - loopback moto
            content = response.read().decode()
            disposition = response.headers["Content-Disposition"]
        assert content.startswith(f"PIPELINE local stand-in, not model weights: {what}")
        assert created["id"] in content
        assert disposition == f'attachment; filename="{link["file_name"]}"'

    with psycopg.connect(worker_stack.owner_database_url, autocommit=True) as conn:
        notices = conn.execute(
            "select type from lora_notifications where metadata->>'job_id' = %s order by created_at",
            (created["id"],),
        ).fetchall()
    assert [n[0] for n in notices] == ["job_queued", "job_initializing", "job_completed"]


def test_a_job_on_a_chosen_model_is_trained_on_it_and_its_adapter_names_it(worker_stack: Stack) -> None:
    user = User(worker_stack, "grace", pairs=5000, tokens=1_200_000)
    created = user.create_fast_job(base_model="llama-3.2-3b")

    job = user.job_when(created["id"], lambda j: j["status"] not in ("queued", "initializing", "running"), 60)

    assert (job["status"], job["base_model"]) == ("completed", "llama-3.2-3b")
    link = user.call("GET", f"/jobs/{created['id']}/download")
    assert link["file_name"] == f"{created['id']}-llama-3.2-3b-adapter-adapter_model.safetensors"
    with urllib.request.urlopen(link["url"], timeout=10) as response:  # noqa: S310 - loopback moto
        content = response.read().decode()
    # The simulated worker wrote the model its assignment named into the adapter's stand-in.
    assert "base model llama-3.2-3b (meta-llama/Llama-3.2-3B)" in content


def test_a_registered_receiver_gets_the_signed_events_of_a_job_that_completes(worker_stack: Stack) -> None:
    user = User(worker_stack, "ivan", pairs=5000, tokens=1_200_000)
    receiver = WebhookReceiver(answers=[500])  # the first delivery fails: it comes again, same id
    with receiver.serving() as url:
        endpoint = user.call(
            "POST",
            "/webhooks",
            {"url": f"{url}/pipeline", "events": ["job.status_changed", "job.completed"]},
        )
        created = user.create_fast_job()
        job = user.job_when(created["id"], lambda j: j["status"] == "completed", 60)
        # Three changes of status and the completion; one of them twice (the failed first attempt).
        arrived = receiver.wait_for(5, timeout_s=60)

    assert len(arrived) == 5, [r.headers.get("webhook-id") for r in arrived]
    payloads = [request.verified_with(endpoint["secret"]) for request in arrived]
    ids = [request.headers["webhook-id"] for request in arrived]
    assert len(set(ids)) == 4
    retried = next(msg_id for msg_id in ids if ids.count(msg_id) == 2)
    first, again = (i for i, msg_id in enumerate(ids) if msg_id == retried)
    assert arrived[first].body == arrived[again].body
    by_id = {msg_id: payload for msg_id, payload in zip(ids, payloads, strict=True)}
    moves = sorted(
        (p["data"]["previous_status"], p["data"]["status"])
        for p in by_id.values()
        if p["type"] == "job.status_changed"
    )
    assert moves == [("initializing", "running"), ("queued", "initializing"), ("running", "completed")]
    [completed] = [p for p in by_id.values() if p["type"] == "job.completed"]
    assert completed["data"]["job_id"] == created["id"]
    assert _money(completed["data"]["current_cost"]) == _money(job["current_cost"])
    assert completed["data"]["adapter_available"] is True

    listed = user.call("GET", f"/webhooks/{endpoint['id']}/deliveries")["deliveries"]
    assert sorted(d["id"] for d in listed) == sorted(set(ids))
    assert {d["status"] for d in listed} == {"delivered"}
    [twice] = [d for d in listed if d["id"] == retried]
    assert [a["response_status"] for a in twice["attempt_log"]] == [500, 200]


def test_cancelling_a_job_mid_run_stops_it_and_charges_the_gpu_time_it_used(worker_stack: Stack) -> None:
    # Ten times the data: a run of about 47 s at this speed, so the cancel lands mid-run.
    user = User(worker_stack, "grace", pairs=50_000, tokens=12_000_000)
    created = user.create_fast_job()
    user.job_when(created["id"], lambda j: j["status"] == "running" and j["progress"] >= 5, 60)

    answer = user.call("POST", f"/jobs/{created['id']}/cancel")
    assert answer["cancellation"] == "requested"
    assert answer["job"]["cancellation_requested_at"] is not None
    assert _money(answer["not_charged"]) == _money(answer["job"]["estimated_total_cost"]) - _money(
        answer["charged"]
    )

    job = user.job_when(created["id"], lambda j: j["status"] != "running", 20)

    assert job["status"] == "cancelled", job
    assert 0 < job["current_step"] < job["total_steps"]
    assert _money(job["current_cost"]) == _gpu_cost(job["gpu_seconds"])  # GPU time only: no adapter stored
    assert _money(answer["charged"]) <= _money(job["current_cost"]) < _money(job["estimated_total_cost"])
    events = user.events(created["id"])
    kinds = [e["type"] for e in events]
    # Progress the worker reported before it heard the cancel may come between request and end.
    assert kinds.count("cancellation_requested") == 1
    assert kinds.index("cancellation_requested") < len(kinds) - 2
    assert kinds[-2:] == ["status_changed", "cost"]
    assert (events[-2]["data"]["from"], events[-2]["data"]["to"]) == ("running", "cancelled")
    assert _money(events[-1]["data"]["cost"]) == _money(job["current_cost"])
    again = user.call("POST", f"/jobs/{created['id']}/cancel")  # a repeated cancel: the same state
    assert (again["cancellation"], again["job"]["status"], again["charged"]) == (
        "cancelled",
        "cancelled",
        job["current_cost"],
    )


def test_a_job_on_a_failing_worker_ends_failed_with_its_error_and_the_time_it_used(tmp_path: Path) -> None:
    running = Stack.start(tmp_path, "--worker-speed", SPEED, "--worker-fail-rate", "1")
    try:
        user = User(running, "heidi", pairs=5000, tokens=1_200_000)
        created = user.create_fast_job()

        job = user.job_when(
            created["id"], lambda j: j["status"] not in ("queued", "initializing", "running"), 60
        )

        assert job["status"] == "failed", job
        assert job["error"]["code"] == "out_of_memory"
        assert job["error"]["message"].startswith("CUDA out of memory")
        assert job["error_message"] == job["error"]["message"]
        assert 0 < job["current_step"] < 625
        assert _money(job["current_cost"]) == _gpu_cost(job["gpu_seconds"])
        errors = [e["data"] for e in user.events(created["id"]) if e["type"] == "error"]
        assert errors == [job["error"]]
    finally:
        running.stop()


def test_a_late_worker_that_takes_a_cancelled_jobs_task_is_told_to_stop_and_stops(tmp_path: Path) -> None:
    # The assignment of a job cancelled while initializing stays on the tasks queue; a worker that
    # subscribes to the control topic only afterwards never heard that cancel, takes the task and starts.
    stack = Stack.start(tmp_path, "--no-worker", "--schedule-interval", "0.5", "--worker-speed", "30")
    try:
        user = User(stack, "late", pairs=5000, tokens=1_200_000)
        created = user.create_fast_job()
        user.job_when(created["id"], lambda job: job["status"] == "initializing", 20)
        assert user.call("POST", f"/jobs/{created['id']}/cancel")["job"]["status"] == "cancelled"
        queue = f"{stack.sqs}/123456789012"
        # Not subscribed yet: the cancel's stop never reaches the worker.
        sqs_call(stack.sqs, "PurgeQueue", {"QueueUrl": f"{queue}/{WORKER_CONTROL_HOST_QUEUE}"})

        sqs = boto3.client(
            "sqs", endpoint_url=stack.sqs, region_name="us-east-1",
            aws_access_key_id="local", aws_secret_access_key="local",
        )  # fmt: skip
        worker = SimulatedGpuWorker(
            sqs,
            Queues(
                tasks=f"{queue}/{WORKER_TASKS_QUEUE}",
                control=f"{queue}/{WORKER_CONTROL_HOST_QUEUE}",
                reports=f"{queue}/{REPORTS_QUEUE}",
            ),
            WorkerSettings(speed=30),  # the 1,872 s run would take a minute: the stop comes first
            s3=boto3.client(
                "s3", endpoint_url=stack.sqs, region_name="us-east-1",
                aws_access_key_id="local", aws_secret_access_key="local",
            ),
            worker_id="late-worker",
        )  # fmt: skip
        stop = threading.Event()
        threading.Thread(target=worker._hear_control, args=(stop,), daemon=True).start()
        [task] = sqs.receive_message(QueueUrl=f"{queue}/{WORKER_TASKS_QUEUE}", WaitTimeSeconds=10)["Messages"]
        assert json.loads(task["Body"])["job_id"] == created["id"]

        began = time.monotonic()
        outcome = worker.run_job(json.loads(task["Body"]), task["ReceiptHandle"], stop)
        stopped_after_s = time.monotonic() - began
        stop.set()
        with psycopg.connect(stack.owner_database_url, autocommit=True) as conn:
            job = conn.execute(
                "select status, current_cost, gpu_seconds, last_report_sequence from lora_training_jobs"
                " where id = %s",
                (created["id"],),
            ).fetchone()
    finally:
        stack.stop()

    # It started, its report was refused and answered with a stop, and it stopped within seconds; the job
    # stayed cancelled and charged nothing (no report of it applied).
    assert outcome == "training_job.cancelled"
    assert stopped_after_s < 30
    assert job == ("cancelled", Decimal("0.00"), Decimal("0.000"), 0)

"""The simulated GPU worker of `make run` speaks the contract: every report it sends passes the
committed schema and the layer's model, numbered from 1 without gaps, and it completes, honours a
cancel within a step, fails when told to, and never starts a job cancelled before it began. It reads
the dataset file its assignment names, and fails the job as `dataset_unreadable` when the file is
missing or is not the one validated. Driven by a fake clock, so a run of thousands of simulated
seconds takes no real time."""

import hashlib
import io
import json
import threading
from typing import Any

import jsonschema
import pytest
from botocore.exceptions import ClientError
from botocore.response import StreamingBody
from pydantic import TypeAdapter

from local.gpu_worker import Queues, SimulatedGpuWorker, WorkerSettings, loss_at
from pipeline.workers.report_messages import WorkerReport
from tests.paths import REPO_ROOT

SCHEMAS = REPO_ROOT / "schemas"
QUEUES = Queues(tasks="tasks.fifo", control="control", reports="reports.fifo")
JOB_ID = "0d9ff9a4-62a5-4d0b-a1a4-0b3f4f5b8f10"
USER_ID = "5b1f7c1e-2a7d-4f7e-9a57-3c1d2b4e6f80"
ASSIGNMENT: dict[str, Any] = {
    "type": "training_job.assigned",
    "version": 2,
    "job_id": JOB_ID,
    "user_id": USER_ID,
    "base_model": {
        "id": "mistral-nemo-12b",
        "name": "Mistral NeMo 12B",
        "source": "mistralai/Mistral-Nemo-Base-2407",
        "parameters": 12_247_782_400,
        "context_length": 131_072,
        "tokenizer": "tekken-240718",
    },
    "dataset": {
        "id": "7c4e2a10-3b5d-4e6f-8a9b-0c1d2e3f4a5b",
        "name": "demo",
        "format": "jsonl",
        "total_training_pairs": 400,
        "total_tokens": 96000,
    },
    "preset_id": "fast",
    "gpu_config": {"type": "A100-80GB", "count": 2},
    "hyperparameters": {"batch_size": 4, "epochs": 2, "learning_rate": 0.0002, "rank": 16},
    "total_epochs": 2,
    "total_steps": 200,
    "steps_per_epoch": 100,
    "estimated_duration_seconds": 2000,
    "output": {"bucket": "artifacts", "prefix": f"users/{USER_ID}/jobs/{JOB_ID}/"},
    "assigned_at": "2026-12-03T12:00:00Z",
}
CANCEL = json.dumps(
    {
        "type": "training_job.cancel_requested",
        "version": 1,
        "job_id": JOB_ID,
        "user_id": USER_ID,
        "requested_at": "2026-12-03T12:01:00Z",
    }
)
REPORT = TypeAdapter[Any](WorkerReport)


class RecordingSqs:
    """The three SQS calls the worker makes, recorded in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def send_message(self, **call: Any) -> dict[str, Any]:
        self.calls.append(("send", call))
        return {"MessageId": str(len(self.calls))}

    def delete_message(self, **call: Any) -> dict[str, Any]:
        self.calls.append(("delete", call))
        return {}

    def reports(self) -> list[dict[str, Any]]:
        return [json.loads(call["MessageBody"]) for kind, call in self.calls if kind == "send"]


class RecordingS3:
    """The worker's S3: what it writes (key -> body), and the objects it may read, answered as boto3
    answers (a streaming body; NoSuchKey for a key that is not there)."""

    def __init__(self, readable: dict[tuple[str, str], bytes] | None = None) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}
        self.readable = readable or {}
        self.reads: list[tuple[str, str]] = []

    def put_object(self, *, Bucket: str, Key: str, Body: bytes, **_: Any) -> dict[str, Any]:
        self.objects[(Bucket, Key)] = Body
        return {}

    def get_object(self, *, Bucket: str, Key: str) -> dict[str, Any]:
        self.reads.append((Bucket, Key))
        if (Bucket, Key) not in self.readable:
            error = {"Error": {"Code": "NoSuchKey", "Message": "The specified key does not exist."}}
            raise ClientError(error, "GetObject")  # type: ignore[arg-type]
        body = self.readable[(Bucket, Key)]
        return {"Body": StreamingBody(io.BytesIO(body), len(body)), "ContentLength": len(body)}


class FakeClock:
    """Time that passes only when the worker sleeps; `on_tick` runs at each sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.ticks = 0
        self.on_tick: Any = None

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.ticks += 1
        if self.on_tick is not None:
            self.on_tick(self.ticks)


def _worker(
    sqs: RecordingSqs, clock: FakeClock, s3: RecordingS3 | None = None, **settings: Any
) -> SimulatedGpuWorker:
    return SimulatedGpuWorker(
        sqs,  # type: ignore[arg-type]
        QUEUES,
        WorkerSettings(**({"speed": 100.0} | settings)),
        s3=s3 or RecordingS3(),  # type: ignore[arg-type]
        worker_id="gpu-test-1",
        clock=clock,
        sleep=clock.sleep,
    )


def _assert_speaks_the_contract(reports: list[dict[str, Any]]) -> None:
    assert [report["sequence"] for report in reports] == list(range(1, len(reports) + 1))
    for report in reports:
        schema = json.loads((SCHEMAS / f"{report['type']}.v1.schema.json").read_text())
        jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(report)
        assert REPORT.validate_python(report).type == report["type"]
    usage = [report for report in reports if "gpu_seconds" in report]
    assert [r["step"] for r in usage] == sorted(r["step"] for r in usage)
    assert [r["gpu_seconds"] for r in usage] == sorted(r["gpu_seconds"] for r in usage)


def test_a_job_runs_to_completion_with_a_checkpoint_per_epoch_and_a_falling_loss() -> None:
    sqs, clock, s3 = RecordingSqs(), FakeClock(), RecordingS3()

    last = _worker(sqs, clock, s3).run_job(ASSIGNMENT, "receipt-1", threading.Event())

    assert last == "training_job.completed"
    reports = sqs.reports()
    _assert_speaks_the_contract(reports)
    assert reports[0] | {"sent_at": None} == {
        "type": "training_job.started",
        "version": 1,
        "job_id": JOB_ID,
        "user_id": USER_ID,
        "sequence": 1,
        "sent_at": None,
        "worker_id": "gpu-test-1",
    }
    # The task is deleted once started was sent, never before.
    assert [kind for kind, _ in sqs.calls[:2]] == ["send", "delete"]
    assert sqs.calls[1][1] == {"QueueUrl": "tasks.fifo", "ReceiptHandle": "receipt-1"}
    assert all(call["MessageGroupId"] == JOB_ID for kind, call in sqs.calls if kind == "send")
    checkpoints = [r for r in reports if r["type"] == "training_job.checkpoint_saved"]
    assert [(c["epoch"], c["step"]) for c in checkpoints] == [(1, 100), (2, 200)]
    prefix = f"users/{USER_ID}/jobs/{JOB_ID}/"
    assert checkpoints[0]["object_key"] == f"{prefix}checkpoints/step-100/adapter_model.safetensors"
    completed = reports[-1]
    assert (completed["step"], completed["epoch"]) == (200, 2)
    assert completed["artifact_key"] == f"{prefix}adapter/adapter_model.safetensors"
    # Every reported key was written first, in the assignment's bucket.
    reported = [c["object_key"] for c in checkpoints] + [completed["artifact_key"]]
    assert sorted(s3.objects) == sorted(("artifacts", key) for key in reported)
    adapter = s3.objects[("artifacts", completed["artifact_key"])]
    assert adapter.startswith(b"PIPELINE local stand-in")
    assert b"base model mistral-nemo-12b (mistralai/Mistral-Nemo-Base-2407)" in adapter
    # 2000 s over 200 steps, within the simulation's 0.95 to 1.1 spread, on 2 GPUs.
    assert 2 * 2000 * 0.95 <= completed["gpu_seconds"] <= 2 * 2000 * 1.1
    progress = [r for r in reports if r["type"] == "training_job.progress"]
    assert len(progress) >= 5
    assert progress[0]["metrics"]["train_loss"] > completed["metrics"]["train_loss"]
    assert "validation_loss" in completed["metrics"]
    # At 100 simulated seconds per real second, a ~2000 s run takes ~20 s of (fake) real time.
    assert 2000 * 0.95 / 100 <= clock.now - 1000 <= 2000 * 1.1 / 100 + 0.1


def test_a_cancel_heard_mid_run_stops_the_job_within_a_step_with_the_gpu_time_used() -> None:
    sqs, clock = RecordingSqs(), FakeClock()
    worker = _worker(sqs, clock)
    clock.on_tick = lambda tick: worker.hear(CANCEL) if tick == 150 else None

    last = worker.run_job(ASSIGNMENT, "receipt-1", threading.Event())

    assert last == "training_job.cancelled"
    reports = sqs.reports()
    _assert_speaks_the_contract(reports)
    cancelled = reports[-1]
    assert cancelled["type"] == "training_job.cancelled"
    assert [r["type"] for r in reports].count("training_job.completed") == 0
    # 150 ticks of 0.05 s at speed 100 = 750 simulated seconds: ~75 of 200 steps, on 2 GPUs.
    assert 0 < cancelled["step"] < 200
    assert cancelled["gpu_seconds"] == pytest.approx(2 * 750, abs=1e-6)
    assert cancelled["epoch"] == 0


def test_a_fail_rate_of_one_fails_every_job_part_way_with_its_error() -> None:
    sqs, clock = RecordingSqs(), FakeClock()

    last = _worker(sqs, clock, fail_rate=1.0).run_job(ASSIGNMENT, "receipt-1", threading.Event())

    assert last == "training_job.failed"
    reports = sqs.reports()
    _assert_speaks_the_contract(reports)
    failed = reports[-1]
    assert failed["error"]["code"] == "out_of_memory"
    assert "CUDA out of memory" in failed["error"]["message"]
    assert 0.2 * 200 - 1 <= failed["step"] <= 0.8 * 200


def test_a_job_cancelled_before_it_started_is_never_started() -> None:
    sqs, clock = RecordingSqs(), FakeClock()
    worker = _worker(sqs, clock)
    worker.hear(CANCEL)

    assert worker.run_job(ASSIGNMENT, "receipt-1", threading.Event()) == "skipped"
    assert sqs.calls == [("delete", {"QueueUrl": "tasks.fifo", "ReceiptHandle": "receipt-1"})]


def test_an_assignment_of_an_unknown_version_is_left_on_the_queue_untouched() -> None:
    sqs, clock = RecordingSqs(), FakeClock()

    assert (
        _worker(sqs, clock).run_job(ASSIGNMENT | {"version": 1}, "receipt-1", threading.Event()) == "ignored"
    )
    assert sqs.calls == []


def test_a_worker_stopping_leaves_the_job_without_a_final_report() -> None:
    sqs, clock = RecordingSqs(), FakeClock()
    stop = threading.Event()
    clock.on_tick = lambda tick: stop.set() if tick == 40 else None

    assert _worker(sqs, clock).run_job(ASSIGNMENT, "receipt-1", stop) == "stopped"
    assert {r["type"] for r in sqs.reports()} <= {"training_job.started", "training_job.progress"}


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        json.dumps({"type": "training_job.pause_requested", "version": 1, "job_id": JOB_ID}),
        json.dumps(json.loads(CANCEL) | {"version": 2}),
    ],
)
def test_control_messages_it_does_not_know_cancel_nothing(body: str) -> None:
    sqs, clock = RecordingSqs(), FakeClock()
    worker = _worker(sqs, clock)
    worker.hear(body)

    assert worker.run_job(ASSIGNMENT, None, threading.Event()) == "training_job.completed"


@pytest.mark.parametrize(
    ("settings", "message"),
    [({"speed": 0}, "WORKER_SPEED"), ({"speed": 10, "fail_rate": 1.5}, "WORKER_FAIL_RATE")],
)
def test_settings_out_of_range_are_refused_naming_the_variable(
    settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        WorkerSettings(**settings)


def test_the_loss_curve_falls_from_its_start_towards_its_floor() -> None:
    curve = [loss_at(fraction / 10, start=2.5, floor=0.5) for fraction in range(11)]
    assert curve[0] == 2.5
    assert curve == sorted(curve, reverse=True)
    assert 0.5 < curve[-1] < 0.55


# ---- the dataset's file ---------------------------------------------------------------------------

DATASET_KEY = f"users/{USER_ID}/datasets/7c4e2a10-3b5d-4e6f-8a9b-0c1d2e3f4a5b/source.jsonl"
# Three lines, the last without its line ending, and a non-ASCII one: lines are counted as bytes go.
DATASET_BYTES = (
    '{"messages": [{"role": "user", "content": "Où est ma commande ?"},'
    ' {"role": "assistant", "content": "Ici."}]}\n'
    '{"prompt": "a", "completion": "b"}\n'
    '{"prompt": "c", "completion": "d"}'
).encode()


def _with_file(content: bytes = DATASET_BYTES, **overrides: Any) -> dict[str, Any]:
    file = {
        "bucket": "datasets",
        "key": DATASET_KEY,
        "sha256": hashlib.sha256(content).hexdigest(),
        "size_bytes": len(content),
        "held_out": 1,
    } | overrides
    return ASSIGNMENT | {"dataset": ASSIGNMENT["dataset"] | {"file": file}}


def test_the_worker_reads_the_assignments_file_and_the_adapter_names_its_line_count() -> None:
    sqs, clock = RecordingSqs(), FakeClock()
    s3 = RecordingS3(readable={("datasets", DATASET_KEY): DATASET_BYTES})

    last = _worker(sqs, clock, s3).run_job(_with_file(), "receipt-1", threading.Event())

    assert last == "training_job.completed"
    _assert_speaks_the_contract(sqs.reports())
    assert s3.reads == [("datasets", DATASET_KEY)]  # once, whole, before training
    adapter = s3.objects[("artifacts", sqs.reports()[-1]["artifact_key"])].decode()
    assert f"Trained on 3 lines of s3://datasets/{DATASET_KEY}" in adapter
    assert f"sha256 {hashlib.sha256(DATASET_BYTES).hexdigest()}, 1 held out" in adapter


def test_a_file_ending_with_its_line_ending_has_no_extra_line() -> None:
    sqs, clock = RecordingSqs(), FakeClock()
    content = DATASET_BYTES + b"\n"
    s3 = RecordingS3(readable={("datasets", DATASET_KEY): content})

    _worker(sqs, clock, s3).run_job(_with_file(content), "receipt-1", threading.Event())

    adapter = s3.objects[("artifacts", sqs.reports()[-1]["artifact_key"])].decode()
    assert "Trained on 3 lines" in adapter


def test_a_dataset_without_a_file_is_trained_on_its_figures_alone() -> None:
    sqs, clock, s3 = RecordingSqs(), FakeClock(), RecordingS3()
    no_file = ASSIGNMENT | {"dataset": ASSIGNMENT["dataset"] | {"file": None}}

    last = _worker(sqs, clock, s3).run_job(no_file, "receipt-1", threading.Event())

    assert last == "training_job.completed"
    assert s3.reads == []
    adapter = s3.objects[("artifacts", sqs.reports()[-1]["artifact_key"])].decode()
    assert "figures alone" in adapter


@pytest.mark.parametrize(
    ("stored", "reason"),
    [
        (None, "could not be read (NoSuchKey)"),  # deleted, or lost with the local S3
        (DATASET_BYTES.replace(b"Ici.", b"La."), "is not the one validated (its SHA-256 differs)"),
    ],
    ids=["missing", "changed"],
)
def test_a_file_missing_or_not_the_one_validated_fails_the_job_before_any_step(
    stored: bytes | None, reason: str
) -> None:
    sqs, clock = RecordingSqs(), FakeClock()
    s3 = RecordingS3(readable={} if stored is None else {("datasets", DATASET_KEY): stored})

    last = _worker(sqs, clock, s3).run_job(_with_file(), "receipt-1", threading.Event())

    assert last == "training_job.failed"
    reports = sqs.reports()
    _assert_speaks_the_contract(reports)
    assert [r["type"] for r in reports] == ["training_job.started", "training_job.failed"]
    failed = reports[-1]
    assert (failed["step"], failed["epoch"], failed["gpu_seconds"]) == (0, 0, 0)
    assert failed["error"]["code"] == "dataset_unreadable"
    assert reason in failed["error"]["message"]
    assert s3.objects == {}  # no checkpoint, no adapter
    assert [kind for kind, _ in sqs.calls[:2]] == ["send", "delete"]  # the task is taken all the same

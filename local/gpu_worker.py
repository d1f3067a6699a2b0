"""A simulated GPU worker for `make run`: it speaks only the worker contract (README "The worker
contract", schemas/), through the queues, and imports nothing of ours.

- Takes `training_job.assigned` from the worker tasks queue, reports `started`, then deletes it.
- Reads the dataset's file the assignment names (`dataset.file`: bucket, key, sha256), as a real worker
  downloads it: counts its lines and checks its SHA-256; a file it cannot read, or whose SHA-256 is not
  the one validated, fails the job with `dataset_unreadable` before any step. A dataset without a file
  (`file` null: made with figures only) is trained on its figures alone.
- Simulates the job's own run: the estimate's duration spread over its steps, at `speed` simulated
  seconds per real second, with a falling loss curve (train and validation), a progress report every
  `report_interval_s` of real time, and a checkpoint at the end of every epoch.
- Hears `training_job.cancel_requested` on its host queue (subscribed to the control topic) and stops
  the job within one tick, reporting `cancelled` with the GPU time used; a cancel for a job it has
  not started yet means it never starts it.
- `fail_rate`: that share of jobs fails part-way with an out-of-memory error.
- Writes a small stand-in file (a few hundred bytes of text saying what it stands for, not weights) for
  each checkpoint and for the final adapter, under the assignment's `output` bucket and prefix, and
  reports their keys, so downloads work end to end in `make run`; the adapter's names the dataset's
  line count.
Reports go to the reports queue (FIFO, MessageGroupId = job_id), with a per-job sequence from 1.
"""

import hashlib
import json
import logging
import math
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

log = logging.getLogger("pipeline.local")

# The reports a worker sends are at version 1 of the contract.
CONTRACT_VERSION = 1
_TICK_S = 0.05  # real seconds between looks at the clock (and at a cancel)
_FAILURE = {
    "code": "out_of_memory",
    "message": "CUDA out of memory on GPU 0 while training: try a smaller batch size or a larger GPU.",
}
_READ_BYTES = 1024 * 1024


class DatasetUnreadable(Exception):
    """The assignment's dataset file cannot be trained on: missing, unreadable, or not the one validated."""


@dataclass(frozen=True)
class DatasetFile:
    """What the worker read of the assignment's dataset file."""

    bucket: str
    key: str
    lines: int
    size_bytes: int
    sha256: str


@dataclass(frozen=True)
class WorkerSettings:
    speed: float  # simulated seconds per real second
    fail_rate: float = 0.0  # 0..1: the share of jobs that fail part-way
    report_interval_s: float = 0.5  # real seconds between progress reports
    slots: int = 4  # jobs run at once

    def __post_init__(self) -> None:
        if not self.speed > 0:
            raise ValueError("WORKER_SPEED must be a positive number of simulated seconds per second")
        if not 0 <= self.fail_rate <= 1:
            raise ValueError("WORKER_FAIL_RATE must be between 0 and 1")


@dataclass(frozen=True)
class Queues:
    tasks: str  # training_job.assigned (FIFO)
    control: str  # this host's subscription to the control topic
    reports: str  # where reports go (FIFO)


class _Cancels:
    """The jobs a cancel was heard for, by job and user: a stop names both, and a worker stops a job only
    when both match the job it has (a job not started yet is never started)."""

    def __init__(self) -> None:
        self._jobs: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def add(self, job_id: str, user_id: str) -> None:
        with self._lock:
            self._jobs.add((job_id, user_id))

    def __contains__(self, job: object) -> bool:
        with self._lock:
            return job in self._jobs


def loss_at(fraction: float, *, start: float, floor: float) -> float:
    """A plausible training loss after `fraction` (0..1) of the run: fast fall, then a slow approach."""
    return floor + (start - floor) * math.exp(-4.0 * fraction)


class SimulatedGpuWorker:
    def __init__(
        self,
        sqs: "SQSClient",
        queues: Queues,
        settings: WorkerSettings,
        *,
        s3: "S3Client",
        worker_id: str = "local-gpu-worker",
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._sqs, self._queues, self._settings = sqs, queues, settings
        self._s3 = s3
        self._worker_id = worker_id
        self._clock, self._sleep = clock, sleep
        self._cancels = _Cancels()
        self._slots = threading.BoundedSemaphore(settings.slots)
        self._pool = ThreadPoolExecutor(max_workers=settings.slots, thread_name_prefix="gpu")

    # ---- the loops -------------------------------------------------------------------------------
    def serve(self, stop: threading.Event) -> None:
        """Take jobs and hear cancels until `stop` is set."""
        listener = threading.Thread(target=self._hear_control, args=(stop,), name="gpu-control", daemon=True)
        listener.start()
        try:
            while not stop.is_set():
                try:
                    self._take_jobs(stop)
                except Exception:
                    log.exception("simulated GPU worker: taking jobs failed; trying again")
                    stop.wait(1)
        finally:
            self._pool.shutdown(wait=False, cancel_futures=True)
            listener.join(timeout=5)

    def _take_jobs(self, stop: threading.Event) -> None:
        if not self._slots.acquire(timeout=1):
            return  # every slot busy
        messages = self._sqs.receive_message(
            QueueUrl=self._queues.tasks, MaxNumberOfMessages=1, WaitTimeSeconds=1
        ).get("Messages", [])
        if not messages:
            self._slots.release()
            return
        message = messages[0]

        def run() -> None:
            try:
                self.run_job(json.loads(message["Body"]), message["ReceiptHandle"], stop)
            except Exception:
                log.exception("simulated GPU worker: a job's run failed")
            finally:
                self._slots.release()

        self._pool.submit(run)

    def _hear_control(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                for message in self._sqs.receive_message(
                    QueueUrl=self._queues.control, MaxNumberOfMessages=10, WaitTimeSeconds=1
                ).get("Messages", []):
                    self.hear(message["Body"])
                    self._sqs.delete_message(
                        QueueUrl=self._queues.control, ReceiptHandle=message["ReceiptHandle"]
                    )
            except Exception:
                log.exception("simulated GPU worker: reading control messages failed; trying again")
                stop.wait(1)

    def hear(self, body: str) -> None:
        """One control message from the topic."""
        try:
            message = json.loads(body)
        except ValueError:
            log.warning("simulated GPU worker: a control message that is not JSON, ignored")
            return
        if message.get("type") == "training_job.cancel_requested" and message.get("version") == 1:
            self._cancels.add(str(message["job_id"]), str(message.get("user_id")))
            log.info("simulated GPU worker: cancel heard for job %s", message["job_id"])
        else:
            log.warning(
                "simulated GPU worker: control message %s v%s ignored",
                message.get("type"),
                message.get("version"),
            )

    # ---- one job ---------------------------------------------------------------------------------
    def run_job(self, assignment: dict[str, Any], receipt_handle: str | None, stop: threading.Event) -> str:
        """Run one assigned job to its end; returns the last report's type."""
        job_id, user_id = str(assignment["job_id"]), str(assignment["user_id"])
        reporter = _Reporter(self._sqs, self._queues.reports, job_id, user_id)
        if assignment.get("type") != "training_job.assigned" or assignment.get("version") != 2:
            log.warning("simulated GPU worker: assignment of an unknown kind left alone")
            return "ignored"
        base_model = assignment["base_model"]
        if (job_id, user_id) in self._cancels:
            self._delete_task(receipt_handle)
            log.info("simulated GPU worker: job %s was cancelled before it started", job_id)
            return "skipped"
        reporter.send("training_job.started", worker_id=self._worker_id)
        self._delete_task(receipt_handle)
        log.info(
            "simulated GPU worker: job %s started, training %s (%s)",
            job_id,
            base_model["id"],
            base_model["source"],
        )
        try:
            dataset_file = self.read_dataset(assignment["dataset"].get("file"))
        except DatasetUnreadable as unreadable:
            reporter.send(
                "training_job.failed",
                step=0,
                epoch=0,
                gpu_seconds=0,
                error={"code": "dataset_unreadable", "message": str(unreadable)},
            )
            log.info("simulated GPU worker: job %s failed: %s", job_id, unreadable)
            return "training_job.failed"
        trained_on = (
            f" Trained on {dataset_file.lines:,} lines of s3://{dataset_file.bucket}/{dataset_file.key}"
            f" (sha256 {dataset_file.sha256}, {_held_out(assignment):,} held out)."
            if dataset_file is not None
            else " Trained on the dataset's figures alone (it has no file)."
        )

        # The same run for the same job: a simulation's noise, nothing secret.
        rng = random.Random(hashlib.sha256(job_id.encode()).digest())  # noqa: S311
        total_steps = int(assignment["total_steps"])
        total_epochs = int(assignment["total_epochs"])
        steps_per_epoch = int(assignment["steps_per_epoch"])
        gpus = int(assignment["gpu_config"]["count"])
        # The estimate's duration, overheads spread over the steps; a real run is rarely exactly on it.
        seconds_per_step = (
            float(assignment["estimated_duration_seconds"]) / total_steps * rng.uniform(0.95, 1.1)
        )
        fails_at = (
            max(1, int(total_steps * rng.uniform(0.2, 0.8)))
            if rng.random() < self._settings.fail_rate
            else None
        )
        start_loss = rng.uniform(2.2, 2.8)
        floor = rng.uniform(0.35, 0.6)
        learning_rate = float(assignment["hyperparameters"]["learning_rate"])
        bucket, prefix = str(assignment["output"]["bucket"]), str(assignment["output"]["prefix"])

        def write(name: str, what: str) -> str:
            """A stand-in file under the job's prefix; its key, to report."""
            key = f"{prefix}{name}"
            body = (
                f"PIPELINE local stand-in, not model weights: {what} of job {job_id},"
                f" base model {base_model['id']} ({base_model['source']}).{trained_on}\n"
            ).encode()
            self._s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/octet-stream")
            return key

        def metrics(step: int, with_validation: bool) -> dict[str, float]:
            fraction = step / total_steps
            train = loss_at(fraction, start=start_loss, floor=floor) * rng.uniform(0.97, 1.03)
            figures = {
                "train_loss": round(train, 4),
                "learning_rate": learning_rate * 0.5 * (1 + math.cos(math.pi * fraction)),
            }
            if with_validation:
                figures["validation_loss"] = round(loss_at(fraction, start=start_loss, floor=floor) * 1.08, 4)
            return figures

        began = self._clock()
        step = epoch = 0
        last_report = began
        while True:
            self._sleep(_TICK_S)
            simulated = (self._clock() - began) * self._settings.speed
            reached = min(total_steps, int(simulated / seconds_per_step))
            gpu_seconds = round(min(simulated, total_steps * seconds_per_step) * gpus, 3)
            if stop.is_set():
                return "stopped"  # make run is stopping: the job stays running, as after a crash
            if (job_id, user_id) in self._cancels:
                reporter.send("training_job.cancelled", step=reached, epoch=epoch, gpu_seconds=gpu_seconds)
                log.info("simulated GPU worker: job %s cancelled at step %d", job_id, reached)
                return "training_job.cancelled"
            if fails_at is not None and reached >= fails_at:
                used = round(fails_at * seconds_per_step * gpus, 3)
                reporter.send(
                    "training_job.failed", step=fails_at, epoch=epoch, gpu_seconds=used, error=_FAILURE
                )
                log.info("simulated GPU worker: job %s failed at step %d", job_id, fails_at)
                return "training_job.failed"
            while epoch < total_epochs and reached >= min(total_steps, (epoch + 1) * steps_per_epoch):
                epoch += 1
                at = min(total_steps, epoch * steps_per_epoch)
                reporter.send(
                    "training_job.checkpoint_saved",
                    step=at,
                    epoch=epoch,
                    gpu_seconds=gpu_seconds,
                    object_key=write(
                        f"checkpoints/step-{at}/adapter_model.safetensors", f"the checkpoint at step {at}"
                    ),
                    metrics=metrics(at, with_validation=True),
                )
            if reached >= total_steps:
                reporter.send(
                    "training_job.completed",
                    step=total_steps,
                    epoch=total_epochs,
                    gpu_seconds=gpu_seconds,
                    artifact_key=write("adapter/adapter_model.safetensors", "the final LoRA adapter"),
                    metrics=metrics(total_steps, with_validation=True),
                )
                log.info("simulated GPU worker: job %s completed", job_id)
                return "training_job.completed"
            if reached > step and self._clock() - last_report >= self._settings.report_interval_s:
                step, last_report = reached, self._clock()
                reporter.send(
                    "training_job.progress",
                    step=step,
                    epoch=epoch,
                    gpu_seconds=gpu_seconds,
                    metrics=metrics(step, with_validation=False),
                )

    def read_dataset(self, file: dict[str, Any] | None) -> DatasetFile | None:
        """Read the assignment's dataset file whole, as a worker downloads it: its lines and SHA-256.
        None for a dataset without a file; DatasetUnreadable when it cannot be trained on."""
        if file is None:
            return None
        bucket, key, expected = str(file["bucket"]), str(file["key"]), str(file["sha256"])
        digest, size, lines, last = hashlib.sha256(), 0, 0, b"\n"
        try:
            body = self._s3.get_object(Bucket=bucket, Key=key)["Body"]
            try:
                for chunk in body.iter_chunks(_READ_BYTES):
                    digest.update(chunk)
                    size += len(chunk)
                    lines += chunk.count(b"\n")
                    last = chunk[-1:] or last
            finally:
                body.close()
        except (ClientError, BotoCoreError) as error:
            raise DatasetUnreadable(f"The dataset file could not be read ({_reason(error)}).") from error
        if last != b"\n":
            lines += 1  # the last line, without its line ending
        if digest.hexdigest() != expected:
            raise DatasetUnreadable(
                "The dataset file is not the one validated (its SHA-256 differs): upload it again."
            )
        log.info(
            "simulated GPU worker: read s3://%s/%s: %d lines, %d bytes, sha256 %s",
            bucket,
            key,
            lines,
            size,
            expected,
        )
        return DatasetFile(bucket, key, lines, size, expected)

    def _delete_task(self, receipt_handle: str | None) -> None:
        if receipt_handle is not None:
            self._sqs.delete_message(QueueUrl=self._queues.tasks, ReceiptHandle=receipt_handle)


def _held_out(assignment: dict[str, Any]) -> int:
    """The examples the assignment says to hold out for the validation loss."""
    return int((assignment["dataset"].get("file") or {}).get("held_out") or 0)


def _reason(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", "error"))
    return type(error).__name__


class _Reporter:
    """One job's reports, numbered from 1 in the order sent."""

    def __init__(self, sqs: "SQSClient", queue_url: str, job_id: str, user_id: str) -> None:
        self._sqs, self._queue_url = sqs, queue_url
        self._job_id, self._user_id = job_id, user_id
        self._sequence = 0

    def send(self, report_type: str, **fields: Any) -> dict[str, Any]:
        self._sequence += 1
        report = {
            "type": report_type,
            "version": CONTRACT_VERSION,
            "job_id": self._job_id,
            "user_id": self._user_id,
            "sequence": self._sequence,
            "sent_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            **fields,
        }
        self._sqs.send_message(
            QueueUrl=self._queue_url,
            MessageBody=json.dumps(report),
            MessageGroupId=self._job_id,
            MessageDeduplicationId=f"{self._job_id}:{self._sequence}",
        )
        return report

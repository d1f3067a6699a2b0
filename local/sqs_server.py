"""A local SQS, SNS and S3 endpoint: moto in server mode on loopback, with the template's queues (each
with its dead-letter queue), the workers' control topic, which one local worker host's queue subscribes,
and the artifacts and datasets buckets, the latter notifying the dataset uploads queue as in AWS.

A small WSGI middleware in front of moto logs every message put on a queue, so `make run` shows
what job processing would receive; each upload's notification is logged too.
"""

import functools
import io
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

import boto3
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeNameType

log = logging.getLogger("pipeline.local")

JOBS_QUEUE = "pipeline-jobs"
JOBS_DLQ = "pipeline-jobs-dlq"
REPORTS_QUEUE = "pipeline-job-reports.fifo"  # FIFO names end in .fifo
REPORTS_DLQ = "pipeline-job-reports-dlq.fifo"
WORKER_TASKS_QUEUE = "pipeline-worker-tasks.fifo"
WORKER_TASKS_DLQ = "pipeline-worker-tasks-dlq.fifo"
WEBHOOK_DELIVERIES_QUEUE = "pipeline-webhook-deliveries"
WEBHOOK_DELIVERIES_DLQ = "pipeline-webhook-deliveries-dlq"
DATASET_UPLOADS_QUEUE = "pipeline-dataset-uploads"
DATASET_UPLOADS_DLQ = "pipeline-dataset-uploads-dlq"
WORKER_CONTROL_TOPIC = "pipeline-worker-control"
# What a worker host subscribes to the control topic (in AWS, the worker team's own queue).
WORKER_CONTROL_HOST_QUEUE = "pipeline-worker-control-local"
REGION = "us-east-1"
ARTIFACTS_BUCKET = "pipeline-artifacts-local"
DATASETS_BUCKET = "pipeline-datasets-local"
# template.yaml's DatasetsBucket notification: every ObjectCreated of a dataset's file.
DATASET_FILE_PREFIX = "users/"
DATASET_FILE_SUFFIX = "/source.jsonl"
# template.yaml's logical id of each queue created here, for the functions' SQS event sources.
LOGICAL_IDS = {
    "JobsQueue": JOBS_QUEUE,
    "JobsDeadLetterQueue": JOBS_DLQ,
    "JobReportsQueue": REPORTS_QUEUE,
    "JobReportsDeadLetterQueue": REPORTS_DLQ,
    "WorkerTasksQueue": WORKER_TASKS_QUEUE,
    "WorkerTasksDeadLetterQueue": WORKER_TASKS_DLQ,
    "WebhookDeliveriesQueue": WEBHOOK_DELIVERIES_QUEUE,
    "WebhookDeliveriesDeadLetterQueue": WEBHOOK_DELIVERIES_DLQ,
    "DatasetUploadsQueue": DATASET_UPLOADS_QUEUE,
    "DatasetUploadsDeadLetterQueue": DATASET_UPLOADS_DLQ,
}


@dataclass(frozen=True)
class LocalQueues:
    jobs: str
    reports: str
    worker_tasks: str
    worker_control_topic_arn: str
    worker_control_host: str  # the local worker host's subscription to the control topic
    webhook_deliveries: str
    webhook_deliveries_dlq: str
    dataset_uploads: str  # the datasets bucket's notifications (notify_dataset_uploads)
    artifacts_bucket: str = ARTIFACTS_BUCKET  # created beside them (create_artifacts_bucket)
    datasets_bucket: str = DATASETS_BUCKET  # likewise

    def environment(self) -> dict[str, str]:
        """The functions' variables that the template fills with !Ref of these resources."""
        return {
            "JOBS_QUEUE_URL": self.jobs,
            "WORKER_TASKS_QUEUE_URL": self.worker_tasks,
            "WORKER_CONTROL_TOPIC_ARN": self.worker_control_topic_arn,
            "WEBHOOK_DELIVERIES_QUEUE_URL": self.webhook_deliveries,
            "WEBHOOK_DELIVERIES_DLQ_URL": self.webhook_deliveries_dlq,
            "ARTIFACTS_BUCKET": self.artifacts_bucket,
            "DATASETS_BUCKET": self.datasets_bucket,
        }


def create_artifacts_bucket(s3: "S3Client") -> str:
    """The template's artifacts bucket, where the local worker writes its stand-in files, and its
    datasets bucket, where uploads go."""
    s3.create_bucket(Bucket=ARTIFACTS_BUCKET)
    s3.create_bucket(Bucket=DATASETS_BUCKET)
    return ARTIFACTS_BUCKET


def create_queues(sqs: "SQSClient", sns: "SNSClient") -> LocalQueues:
    """The template's queues, each redriving to its DLQ after the template's receives, and the control
    topic with a worker host's queue subscribed (raw delivery, as a worker team would subscribe theirs)."""
    urls = {}
    dlq_urls = {}
    for queue, dlq, visibility, receives in (
        (REPORTS_QUEUE, REPORTS_DLQ, 60, 5),
        (JOBS_QUEUE, JOBS_DLQ, 60, 5),
        (WORKER_TASKS_QUEUE, WORKER_TASKS_DLQ, 900, 5),
        (WEBHOOK_DELIVERIES_QUEUE, WEBHOOK_DELIVERIES_DLQ, 540, 12),
        (DATASET_UPLOADS_QUEUE, DATASET_UPLOADS_DLQ, 5400, 3),
    ):
        kind: dict[QueueAttributeNameType, str] = {"FifoQueue": "true"} if queue.endswith(".fifo") else {}
        dlq_url = dlq_urls[queue] = sqs.create_queue(QueueName=dlq, Attributes=kind)["QueueUrl"]
        redrive = json.dumps({"deadLetterTargetArn": _arn(sqs, dlq_url), "maxReceiveCount": str(receives)})
        urls[queue] = sqs.create_queue(
            QueueName=queue,
            Attributes=kind | {"RedrivePolicy": redrive, "VisibilityTimeout": str(visibility)},
        )["QueueUrl"]
    topic_arn = sns.create_topic(Name=WORKER_CONTROL_TOPIC)["TopicArn"]
    host_url = sqs.create_queue(QueueName=WORKER_CONTROL_HOST_QUEUE)["QueueUrl"]
    sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=_arn(sqs, host_url),
        Attributes={"RawMessageDelivery": "true"},
    )
    return LocalQueues(
        jobs=urls[JOBS_QUEUE],
        reports=urls[REPORTS_QUEUE],
        worker_tasks=urls[WORKER_TASKS_QUEUE],
        worker_control_topic_arn=topic_arn,
        worker_control_host=host_url,
        webhook_deliveries=urls[WEBHOOK_DELIVERIES_QUEUE],
        webhook_deliveries_dlq=dlq_urls[WEBHOOK_DELIVERIES_QUEUE],
        dataset_uploads=urls[DATASET_UPLOADS_QUEUE],
    )


def notify_dataset_uploads(s3: "S3Client", sqs: "SQSClient", queues: LocalQueues) -> None:
    """The datasets bucket's notification, as template.yaml configures it: every ObjectCreated (a form's
    POST included) of a key under users/ ending in /source.jsonl, to the dataset uploads queue. moto
    delivers it to its own SQS, in server mode too, and sends S3's test event first, as S3 does."""
    s3.put_bucket_notification_configuration(
        Bucket=queues.datasets_bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "Id": "DatasetUploads",
                    "QueueArn": _arn(sqs, queues.dataset_uploads),
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {
                        "Key": {
                            "FilterRules": [
                                {"Name": "prefix", "Value": DATASET_FILE_PREFIX},
                                {"Name": "suffix", "Value": DATASET_FILE_SUFFIX},
                            ]
                        }
                    },
                }
            ]
        },
    )


# ---- S3 event records as S3 writes them -----------------------------------------------------------
# moto's records (moto/s3/notifications.py, _get_s3_event, as of moto 5.2.5 and its main branch) lack the
# object's `sequencer`, which S3 puts in every ObjectCreated record and the dataset validator orders
# uploads by. Each record gets one here: a hex string from the clock, growing with every event, also
# across restarts of the stack (the database remembers the last one validated).
_sequencer_lock = threading.Lock()
_last_sequencer = 0


def next_sequencer() -> str:
    global _last_sequencer
    with _sequencer_lock:
        _last_sequencer = max(_last_sequencer + 1, time.time_ns())
        return f"{_last_sequencer:018X}"


def _with_sequencer(build: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    @functools.wraps(build)
    def event(event_name: str, bucket: Any, key: Any, notification_id: str) -> dict[str, Any]:
        body = build(event_name, bucket, key, notification_id)
        for record in body.get("Records", []):
            s3_object = record["s3"]["object"]
            s3_object.setdefault("sequencer", next_sequencer())
            if getattr(key, "version_id", "null") not in (None, "null"):
                s3_object.setdefault("versionId", key.version_id)
            log.info(
                "s3 %s: %s %s (%s bytes) -> notification",
                record["s3"]["bucket"]["name"],
                record["eventName"],
                unquote_plus(str(s3_object["key"])),
                s3_object.get("size"),
            )
        return body

    event.__dict__["completed_by_pipeline"] = True
    return event


def complete_s3_event_records() -> None:
    """Add what moto's S3 event records lack (idempotent: moto's module is patched once per process)."""
    from moto.s3 import notifications

    if not getattr(notifications._get_s3_event, "completed_by_pipeline", False):
        notifications._get_s3_event = _with_sequencer(notifications._get_s3_event)


def _arn(sqs: "SQSClient", queue_url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


class _QueueLoggingMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        if target.endswith((".SendMessage", ".SendMessageBatch")):
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)  # moto reads it again
            self._log(body)
        return self.app(environ, start_response)

    @staticmethod
    def _log(raw: bytes) -> None:
        try:
            request = json.loads(raw)
            queue = str(request.get("QueueUrl", "")).rsplit("/", 1)[-1]
            bodies = (
                [request["MessageBody"]]
                if "MessageBody" in request
                else [entry["MessageBody"] for entry in request.get("Entries", [])]
            )
            for body in bodies:
                message = json.loads(body)
                log.info("queue %s <- %s job_id=%s", queue, message.get("type"), message.get("job_id"))
        except (ValueError, KeyError, TypeError, AttributeError):
            log.info("queue <- a message that is not a job message")


class LocalSqs:
    def __init__(self, host: str = "127.0.0.1", port: int = 9324) -> None:
        self.host, self.port = host, port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "LocalSqs":
        complete_s3_event_records()
        app = _QueueLoggingMiddleware(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(
            self.host, self.port, app, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-sqs", daemon=True)
        self._thread.start()
        return self

    def client(self) -> "SQSClient":
        return self._client("sqs")  # type: ignore[no-any-return]

    def sns_client(self) -> "SNSClient":
        return self._client("sns")  # type: ignore[no-any-return]

    def s3_client(self) -> "S3Client":
        return self._client("s3")  # type: ignore[no-any-return]

    def _client(self, service: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 - moto accepts any credentials
        )

    def create_queues(self) -> LocalQueues:
        """The queues, the control topic, the artifacts and datasets buckets, and the datasets bucket's
        notifications to the dataset uploads queue."""
        create_artifacts_bucket(self.s3_client())
        queues = create_queues(self.client(), self.sns_client())
        notify_dataset_uploads(self.s3_client(), self.client(), queues)
        return queues

    def queue_url(self, name: str) -> str:
        return f"{self.endpoint_url}/123456789012/{name}"  # moto's default account

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

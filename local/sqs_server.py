"""A local SQS endpoint: moto in server mode on loopback, with the jobs queue and its dead-letter queue.

A small WSGI middleware in front of moto logs every message put on a queue, so `make run` shows
what job processing would receive.
"""

import io
import json
import logging
import threading
from typing import TYPE_CHECKING, Any

import boto3
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeNameType

log = logging.getLogger("pipeline.local")

JOBS_QUEUE = "pipeline-jobs"
JOBS_DLQ = "pipeline-jobs-dlq"
REPORTS_QUEUE = "pipeline-job-reports.fifo"  # FIFO names end in .fifo
REPORTS_DLQ = "pipeline-job-reports-dlq.fifo"
REGION = "us-east-1"
# template.yaml's logical id of each queue created here, for the functions' SQS event sources.
LOGICAL_IDS = {
    "JobsQueue": JOBS_QUEUE,
    "JobsDeadLetterQueue": JOBS_DLQ,
    "JobReportsQueue": REPORTS_QUEUE,
    "JobReportsDeadLetterQueue": REPORTS_DLQ,
}


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
        app = _QueueLoggingMiddleware(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(
            self.host, self.port, app, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-sqs", daemon=True)
        self._thread.start()
        return self

    def client(self) -> "SQSClient":
        return boto3.client(
            "sqs",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 - moto accepts any credentials
        )

    def create_queues(self) -> str:
        """Create the jobs queue and the job reports queue (FIFO), each redriving to its DLQ after 5
        receives, as the template does; return the jobs queue's URL."""
        sqs = self.client()
        for queue, dlq, fifo in ((REPORTS_QUEUE, REPORTS_DLQ, True), (JOBS_QUEUE, JOBS_DLQ, False)):
            kind: dict[QueueAttributeNameType, str] = {"FifoQueue": "true"} if fifo else {}
            dlq_url = sqs.create_queue(QueueName=dlq, Attributes=kind)["QueueUrl"]
            dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"})
            url = sqs.create_queue(
                QueueName=queue, Attributes=kind | {"RedrivePolicy": redrive, "VisibilityTimeout": "60"}
            )["QueueUrl"]
        return url  # the last one made: the jobs queue

    def queue_url(self, name: str) -> str:
        return f"{self.endpoint_url}/123456789012/{name}"  # moto's default account

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

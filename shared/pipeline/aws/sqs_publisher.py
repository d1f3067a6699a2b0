"""Sends messages to SQS: job messages to the jobs queue, assigned jobs to the worker tasks queue (FIFO),
webhook deliveries that are due to their queue.

The client is created once per execution environment (pipeline.aws.lean_sqs_client builds it for a short
cold start, or plainly). boto3 honours AWS_ENDPOINT_URL, so a local SQS (moto server) works with no code
change. Timeouts are short: the message is already committed in the outbox, so a slow queue must not
hold the caller; a failed send is retried by the outbox relay.
"""

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from botocore.config import Config
from pydantic import Field

from pipeline.aws.lean_sqs_client import sqs_client
from pipeline.runtime.settings import EnvSettings

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import MessageAttributeValueTypeDef

CLIENT_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"max_attempts": 3, "mode": "standard"},
)


class BatchMessage(Protocol):
    """One message of a batch send (an outbox row): `id` names it in the answer."""

    @property
    def id(self) -> int: ...
    @property
    def job_id(self) -> UUID: ...
    @property
    def message_type(self) -> str: ...
    @property
    def message_version(self) -> int: ...
    @property
    def body(self) -> str: ...


class QueueSettings(EnvSettings):
    jobs_queue_url: str = Field(alias="JOBS_QUEUE_URL", pattern=r"^https?://")
    aws_region: str = Field(alias="AWS_REGION", min_length=1)
    # pipeline.aws.lean_sqs_client's cold-start shortcuts; false builds the client exactly as boto3 does.
    client_shortcuts: bool = Field(default=True, alias="SQS_CLIENT_SHORTCUTS")


class WorkerTasksQueueSettings(EnvSettings):
    worker_tasks_queue_url: str = Field(alias="WORKER_TASKS_QUEUE_URL", pattern=r"^https?://.*\.fifo$")
    aws_region: str = Field(alias="AWS_REGION", min_length=1)
    client_shortcuts: bool = Field(default=True, alias="SQS_CLIENT_SHORTCUTS")


class WebhookDeliveriesQueueSettings(EnvSettings):
    webhook_deliveries_queue_url: str = Field(alias="WEBHOOK_DELIVERIES_QUEUE_URL", pattern=r"^https?://")
    aws_region: str = Field(alias="AWS_REGION", min_length=1)
    client_shortcuts: bool = Field(default=True, alias="SQS_CLIENT_SHORTCUTS")


class SqsPublisher:
    """One queue. On a FIFO queue each job is its own message group (its messages stay in order) and a
    message's deduplication id is type:job_id, so the API's send and a relay's re-send of the same
    message within SQS's five-minute window are delivered once."""

    def __init__(self, queue_url: str, *, region: str, shortcuts: bool) -> None:
        self._queue_url = queue_url
        self._fifo = queue_url.endswith(".fifo")
        self._client = sqs_client(region, CLIENT_CONFIG, shortcuts=shortcuts)

    def release(self) -> None:
        """Close the client's pooled connections (before a SnapStart snapshot); it reopens them on use."""
        self._client.close()

    def publish(self, *, body: str, message_type: str, version: int, job_id: UUID | None = None) -> None:
        self._client.send_message(
            QueueUrl=self._queue_url,
            MessageBody=body,
            MessageAttributes=_attributes(message_type, version),
            **self._ordering(message_type, job_id),
        )

    def publish_batch(self, messages: Sequence[BatchMessage]) -> dict[int, str]:
        """SendMessageBatch (at most 10); {message id: error code} for the entries SQS refused."""
        response = self._client.send_message_batch(
            QueueUrl=self._queue_url,
            Entries=[
                {
                    "Id": str(message.id),
                    "MessageBody": message.body,
                    "MessageAttributes": _attributes(message.message_type, message.message_version),
                    **self._ordering(message.message_type, message.job_id),  # type: ignore[typeddict-item]
                }
                for message in messages
            ],
        )
        return {int(entry["Id"]): entry.get("Code", "Failed") for entry in response.get("Failed", [])}

    def _ordering(self, message_type: str, job_id: UUID | None) -> dict[str, Any]:
        if not self._fifo:
            return {}
        if job_id is None:
            raise ValueError("a FIFO queue's message needs its job_id")
        return {"MessageGroupId": str(job_id), "MessageDeduplicationId": f"{message_type}:{job_id}"}


class SqsJobPublisher(SqsPublisher):
    """The jobs queue (training_job.queued), read by the dispatcher."""

    def __init__(self, settings: QueueSettings) -> None:
        super().__init__(
            settings.jobs_queue_url, region=settings.aws_region, shortcuts=settings.client_shortcuts
        )


def worker_tasks_publisher(settings: WorkerTasksQueueSettings) -> SqsPublisher:
    """The worker tasks queue (training_job.assigned), read by the GPU workers."""
    return SqsPublisher(
        settings.worker_tasks_queue_url, region=settings.aws_region, shortcuts=settings.client_shortcuts
    )


def webhook_deliveries_publisher(settings: WebhookDeliveriesQueueSettings) -> SqsPublisher:
    """The webhook deliveries queue (webhook.delivery_due), read by the webhook delivery function."""
    return SqsPublisher(
        settings.webhook_deliveries_queue_url,
        region=settings.aws_region,
        shortcuts=settings.client_shortcuts,
    )


def _attributes(message_type: str, version: int) -> "dict[str, MessageAttributeValueTypeDef]":
    return {
        "type": {"DataType": "String", "StringValue": message_type},
        "version": {"DataType": "Number", "StringValue": str(version)},
    }

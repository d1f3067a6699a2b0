"""The webhook deliveries queue as its function uses it: hiding a message until its retry is due
(ChangeMessageVisibility) and moving one whose last attempt failed to the dead-letter queue."""

from typing import TYPE_CHECKING

from botocore.config import Config
from pydantic import Field

from pipeline.aws.lean_sqs_client import plain_client
from pipeline.runtime.settings import EnvSettings

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

_CLIENT_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 3, "mode": "standard"})


class DeliveryQueueSettings(EnvSettings):
    queue_url: str = Field(alias="WEBHOOK_DELIVERIES_QUEUE_URL", pattern=r"^https?://")
    dead_letter_queue_url: str = Field(alias="WEBHOOK_DELIVERIES_DLQ_URL", pattern=r"^https?://")
    aws_region: str = Field(alias="AWS_REGION", min_length=1)


class SqsDeliveryQueue:
    def __init__(self, settings: DeliveryQueueSettings, client: "SQSClient | None" = None) -> None:
        self._queue_url = settings.queue_url
        self._dead_letter_queue_url = settings.dead_letter_queue_url
        self._client = client or plain_client(settings.aws_region, _CLIENT_CONFIG)

    def release(self) -> None:
        self._client.close()

    def retry_later(self, receipt_handle: str, delay_s: int) -> None:
        self._client.change_message_visibility(
            QueueUrl=self._queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=delay_s
        )

    def dead_letter(self, body: str) -> None:
        self._client.send_message(QueueUrl=self._dead_letter_queue_url, MessageBody=body)

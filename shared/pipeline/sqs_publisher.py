"""Sends job messages to the jobs queue (SQS).

The client is created once per execution environment (pipeline.lean_sqs_client builds it for a short
cold start, or plainly). boto3 honours AWS_ENDPOINT_URL, so a local SQS (moto server) works with no code
change. Timeouts are short: the job is already committed, so a slow queue must not hold the response; a
failed send is retried by the outbox relay.
"""

from typing import TYPE_CHECKING

from botocore.config import Config
from pydantic import Field

from pipeline.lean_sqs_client import sqs_client
from pipeline.outbox_repository import OutboxMessage
from pipeline.settings import EnvSettings

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import MessageAttributeValueTypeDef

_CLIENT_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"max_attempts": 3, "mode": "standard"},
)


class QueueSettings(EnvSettings):
    jobs_queue_url: str = Field(alias="JOBS_QUEUE_URL", pattern=r"^https?://")
    aws_region: str = Field(alias="AWS_REGION", min_length=1)
    # pipeline.lean_sqs_client's cold-start shortcuts; false builds the client exactly as boto3 does.
    client_shortcuts: bool = Field(default=True, alias="SQS_CLIENT_SHORTCUTS")


class SqsJobPublisher:
    def __init__(self, settings: QueueSettings) -> None:
        self._queue_url = settings.jobs_queue_url
        self._client = sqs_client(settings.aws_region, _CLIENT_CONFIG, shortcuts=settings.client_shortcuts)

    def release(self) -> None:
        """Close the client's pooled connections (before a SnapStart snapshot); it reopens them on use."""
        self._client.close()

    def publish(self, *, body: str, message_type: str, version: int) -> None:
        self._client.send_message(
            QueueUrl=self._queue_url, MessageBody=body, MessageAttributes=_attributes(message_type, version)
        )

    def publish_batch(self, messages: list[OutboxMessage]) -> dict[int, str]:
        """SendMessageBatch (at most 10); {outbox id: error code} for the entries SQS refused."""
        response = self._client.send_message_batch(
            QueueUrl=self._queue_url,
            Entries=[
                {
                    "Id": str(message.id),
                    "MessageBody": message.body,
                    "MessageAttributes": _attributes(message.message_type, message.message_version),
                }
                for message in messages
            ],
        )
        return {int(entry["Id"]): entry.get("Code", "Failed") for entry in response.get("Failed", [])}


def _attributes(message_type: str, version: int) -> "dict[str, MessageAttributeValueTypeDef]":
    return {
        "type": {"DataType": "String", "StringValue": message_type},
        "version": {"DataType": "Number", "StringValue": str(version)},
    }

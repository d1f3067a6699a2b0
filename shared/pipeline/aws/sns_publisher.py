"""Sends control messages (training_job.cancel_requested) to the workers' control topic (SNS).

A topic, not a queue: every worker host subscribes a queue of its own and hears every control
message, so the host running the job hears its cancel whichever host took the job. The client is
created once per execution environment, with the same short timeouts as the SQS publishers: the
message is committed in the outbox, and the relay re-sends what this send did not.
"""

from collections.abc import Sequence
from typing import TYPE_CHECKING
from uuid import UUID

import boto3
from pydantic import Field

from pipeline.aws.sqs_publisher import CLIENT_CONFIG, BatchMessage
from pipeline.runtime.settings import EnvSettings

if TYPE_CHECKING:
    from mypy_boto3_sns.type_defs import MessageAttributeValueTypeDef


class ControlTopicSettings(EnvSettings):
    worker_control_topic_arn: str = Field(alias="WORKER_CONTROL_TOPIC_ARN", pattern=r"^arn:aws[a-z-]*:sns:")
    aws_region: str = Field(alias="AWS_REGION", min_length=1)


class SnsControlPublisher:
    def __init__(self, settings: ControlTopicSettings) -> None:
        self._topic_arn = settings.worker_control_topic_arn
        self._client = boto3.session.Session(region_name=settings.aws_region).client(
            "sns", config=CLIENT_CONFIG
        )

    def release(self) -> None:
        """Close the client's pooled connections (before a SnapStart snapshot); it reopens them on use."""
        self._client.close()

    def publish(self, *, body: str, message_type: str, version: int, job_id: UUID | None = None) -> None:
        self._client.publish(
            TopicArn=self._topic_arn, Message=body, MessageAttributes=_attributes(message_type, version)
        )

    def publish_batch(self, messages: Sequence[BatchMessage]) -> dict[int, str]:
        """PublishBatch (at most 10); {message id: error code} for the entries SNS refused."""
        response = self._client.publish_batch(
            TopicArn=self._topic_arn,
            PublishBatchRequestEntries=[
                {
                    "Id": str(message.id),
                    "Message": message.body,
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

"""Sends job messages to the jobs queue (SQS). The only module that imports boto3.

The client is created once per execution environment. boto3 honours AWS_ENDPOINT_URL, so a local SQS
(moto server) works with no code change. Timeouts are short: the job is already committed, so a slow
queue must not hold the response; a failed send is retried by the outbox relay.
"""

import boto3
from botocore.config import Config

from pipeline.settings import QueueSettings

_CLIENT_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"max_attempts": 3, "mode": "standard"},
)


class SqsJobPublisher:
    def __init__(self, settings: QueueSettings) -> None:
        self._queue_url = settings.jobs_queue_url
        self._client = boto3.client("sqs", region_name=settings.aws_region, config=_CLIENT_CONFIG)

    def publish(self, *, body: str, message_type: str, version: int) -> None:
        self._client.send_message(
            QueueUrl=self._queue_url,
            MessageBody=body,
            MessageAttributes={
                "type": {"DataType": "String", "StringValue": message_type},
                "version": {"DataType": "Number", "StringValue": str(version)},
            },
        )

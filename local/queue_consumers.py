"""Local SQS event source mappings: poll a local queue and invoke its function with the event Lambda's
SQS poller sends, as the Lambda service does in AWS.

Messages the function handled are deleted. The ones it reports failed (ReportBatchItemFailures), or
the whole batch when it raises, stay on the queue: they come back after the visibility timeout and,
after maxReceiveCount, moto's redrive policy moves them to the dead-letter queue.
"""

import asyncio
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from local.sam_template import FunctionSpec, SqsSource

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import DeleteMessageBatchRequestEntryTypeDef, MessageTypeDef

log = logging.getLogger("pipeline.local")
_WAIT_S = 1  # long poll: an idle queue costs one request a second


def sqs_event(messages: list["MessageTypeDef"], queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda hands a function for a batch of SQS messages."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": dict(message.get("Attributes", {})),
                "messageAttributes": {
                    name: {
                        "stringValue": value.get("StringValue"),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": value["DataType"],
                    }
                    for name, value in message.get("MessageAttributes", {}).items()
                },
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for message in messages
        ]
    }


def handled_message_ids(messages: list["MessageTypeDef"], result: Any, source: SqsSource) -> list[str]:
    """The messages to delete after the function returned `result` for them."""
    failed: set[str] = set()
    if source.report_batch_item_failures and isinstance(result, dict):
        failed = {str(item.get("itemIdentifier")) for item in result.get("batchItemFailures") or []}
    return [message["MessageId"] for message in messages if message["MessageId"] not in failed]


@dataclass
class QueueConsumer:
    """One event source mapping: `queue_url` feeds the function behind `invoke`, run on `executor`."""

    name: str
    source: SqsSource
    queue_url: str
    invoke: Callable[[dict[str, Any]], Any]
    executor: Executor
    client: "SQSClient"
    region: str

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        queue_arn = (
            await loop.run_in_executor(
                None,
                lambda: self.client.get_queue_attributes(
                    QueueUrl=self.queue_url, AttributeNames=["QueueArn"]
                ),
            )
        )["Attributes"]["QueueArn"]
        while True:
            try:
                await self._poll(loop, queue_arn)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s: polling %s failed; trying again", self.name, self.queue_url)
                await asyncio.sleep(_WAIT_S)

    async def _poll(self, loop: asyncio.AbstractEventLoop, queue_arn: str) -> None:
        messages = await loop.run_in_executor(None, self._receive)
        if not messages:
            return
        event = sqs_event(messages, queue_arn, self.region)
        try:
            result = await loop.run_in_executor(self.executor, self.invoke, event)
        except Exception:
            log.exception(
                "%s raised: its %d messages come back after the visibility timeout", self.name, len(messages)
            )
            return
        await loop.run_in_executor(None, self._delete_handled, messages, result)

    def poll_once(self) -> int:
        """One receive and, if anything came, one invocation, as `run` does, but synchronously: for the
        local stack's seeding, before the event loop starts. How many messages it received."""
        messages = self._receive()
        if not messages:
            return 0
        queue_arn = self.client.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        event = sqs_event(messages, queue_arn, self.region)
        try:
            result = self.executor.submit(self.invoke, event).result()
        except Exception:
            log.exception(
                "%s raised: its %d messages come back after the visibility timeout", self.name, len(messages)
            )
            return len(messages)
        self._delete_handled(messages, result)
        return len(messages)

    def _receive(self) -> list["MessageTypeDef"]:
        return self.client.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(self.source.batch_size, 10),
            WaitTimeSeconds=_WAIT_S,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])

    def _delete_handled(self, messages: list["MessageTypeDef"], result: Any) -> None:
        handled = set(handled_message_ids(messages, result, self.source))
        entries: list[DeleteMessageBatchRequestEntryTypeDef] = [
            {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
            for index, message in enumerate(messages)
            if message["MessageId"] in handled
        ]
        if entries:
            self.client.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
        log.info("%s: %d handled, %d left for retry", self.name, len(entries), len(messages) - len(entries))


class _Function(Protocol):
    @property
    def spec(self) -> FunctionSpec: ...
    @property
    def executor(self) -> Executor: ...

    def invoke(self, event: dict[str, Any]) -> Any: ...


def consumers_for(
    functions: Iterable[_Function], queue_urls: dict[str, str], client: "SQSClient", region: str
) -> list[QueueConsumer]:
    """A consumer for every SQS event source whose queue (by logical id) is in `queue_urls`."""
    return [
        QueueConsumer(
            name=function.spec.logical_id,
            source=source,
            queue_url=queue_urls[source.queue],
            invoke=function.invoke,
            executor=function.executor,
            client=client,
            region=region,
        )
        for function in functions
        for source in function.spec.queues
        if source.queue in queue_urls
    ]

"""What every SQS-consuming function shares: each record's body through the domain, one metric per
outcome, and only the records that raised reported back (ReportBatchItemFailures), so SQS delivers
just those again. What the outcome of a body is, and which failures are transient, is the domain's."""

import json
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.base import BasePartialBatchProcessor
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from pipeline.runtime.observability import logger, metrics, tracer

# The context: Lambda's, or anything shaped like it (the local stack's, the tests').
ConsumerHandler = Callable[[dict[str, Any], Any], PartialItemFailureResponse]


class LeaveForRetry(Exception):
    """Raised by a record's handler that handled it and wants it back later: counted under `outcome`,
    then reported failed, so SQS delivers it again (when is the handler's to set: its visibility)."""

    def __init__(self, outcome: StrEnum) -> None:
        super().__init__(str(outcome))
        self.outcome = outcome


def sqs_consumer(
    processor: BasePartialBatchProcessor,
    handle: Callable[[str], StrEnum],
    metric_names: Mapping[StrEnum, str],
) -> ConsumerHandler:
    """The Lambda entry point: `handle(body)` per record (raising leaves the record for a retry)."""
    return sqs_record_consumer(processor, lambda record: handle(record.body), metric_names)


def sqs_record_consumer(
    processor: BasePartialBatchProcessor,
    handle: Callable[[SQSRecord], StrEnum],
    metric_names: Mapping[StrEnum, str],
) -> ConsumerHandler:
    """As sqs_consumer, for a handler that needs the whole record (its receipt handle, its attributes)."""

    def record_handler(record: SQSRecord) -> str:
        try:
            outcome = handle(record)
        except LeaveForRetry as retry:
            metrics.add_metric(name=metric_names[retry.outcome], unit=MetricUnit.Count, value=1)
            raise
        metrics.add_metric(name=metric_names[outcome], unit=MetricUnit.Count, value=1)
        return outcome

    @logger.inject_lambda_context
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )

    return lambda_handler


def envelope_kind(body: str) -> tuple[Any, Any] | None:
    """A message body's (type, version), to log what an invalid message claimed to be; None when the
    body is not a JSON object."""
    try:
        envelope = json.loads(body)
    except ValueError:
        return None
    return (envelope.get("type"), envelope.get("version")) if isinstance(envelope, dict) else None

"""What every SQS-consuming function shares: each record's body through the domain, one metric per
outcome, and only the records that raised reported back (ReportBatchItemFailures), so SQS delivers
just those again. What the outcome of a body is, and which failures are transient, is the domain's."""

import json
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any, NamedTuple

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


class Envelope(NamedTuple):
    """What a message that could not be read claimed to be, for its log line: its type and version, and
    the job and sequence it named (each shortened, as anything in it may be hostile)."""

    type: str | None
    version: str | None
    job_id: str | None
    sequence: str | None

    @property
    def kind(self) -> tuple[str | None, str | None]:
        return (self.type, self.version)


def envelope(body: str) -> Envelope | None:
    """The envelope of a message body; None when the body is not a JSON object."""
    try:
        fields = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(fields, dict):
        return None

    def short(key: str) -> str | None:
        value = fields.get(key)
        return None if value is None else repr(value)[:80] if not isinstance(value, str) else value[:80]

    return Envelope(short("type"), short("version"), short("job_id"), short("sequence"))

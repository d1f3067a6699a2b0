"""What every SQS-consuming function shares: each record's body through the domain, one metric per
outcome, and only the records that raised reported back (ReportBatchItemFailures), so SQS delivers
just those again. What the outcome of a body is, and which failures are transient, is the domain's."""

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.base import BasePartialBatchProcessor
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from pipeline.observability import logger, metrics, tracer

# The context: Lambda's, or anything shaped like it (the local stack's, the tests').
ConsumerHandler = Callable[[dict[str, Any], Any], PartialItemFailureResponse]


def sqs_consumer(
    processor: BasePartialBatchProcessor,
    handle: Callable[[str], StrEnum],
    metric_names: Mapping[StrEnum, str],
) -> ConsumerHandler:
    """The Lambda entry point: `handle(body)` per record (raising leaves the record for a retry)."""

    def record_handler(record: SQSRecord) -> str:
        outcome = handle(record.body)
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

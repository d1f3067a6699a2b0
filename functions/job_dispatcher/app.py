"""SQS consumer of the jobs queue: claims each queued job (queued -> initializing) for processing.

Reports only the records that failed (ReportBatchItemFailures), so SQS retries just those.
"""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from pipeline import job_dispatch
from pipeline.database import Database
from pipeline.execution_environment import finish_init
from pipeline.observability import logger, metrics, tracer
from pipeline.settings import DatabaseSettings

database = Database(DatabaseSettings.from_env())
processor = BatchProcessor(event_type=EventType.SQS)
METRIC_NAMES = {
    job_dispatch.Outcome.CLAIMED: "JobsClaimed",
    job_dispatch.Outcome.ALREADY_CLAIMED: "JobMessagesDuplicate",
    job_dispatch.Outcome.JOB_NOT_FOUND: "JobMessagesJobNotFound",
    job_dispatch.Outcome.UNPROCESSABLE: "JobMessagesUnprocessable",
}


def record_handler(record: SQSRecord) -> str:
    outcome = job_dispatch.dispatch(database, record.body)
    metrics.add_metric(name=METRIC_NAMES[outcome], unit=MetricUnit.Count, value=1)
    return outcome


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )


finish_init(release=[database.release])

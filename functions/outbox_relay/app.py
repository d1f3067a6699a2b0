"""Scheduled (every minute): publish outbox rows whose send after commit did not happen."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from pipeline.aws.sns_publisher import ControlTopicSettings, SnsControlPublisher
from pipeline.aws.sqs_publisher import (
    QueueSettings,
    SqsJobPublisher,
    SqsPublisher,
    WebhookDeliveriesQueueSettings,
    WorkerTasksQueueSettings,
    webhook_deliveries_publisher,
    worker_tasks_publisher,
)
from pipeline.db.database import Database, DatabaseSettings
from pipeline.outbox import relay as outbox_relay
from pipeline.outbox.relay import RelaySettings
from pipeline.outbox.repository import Destination
from pipeline.runtime.execution_environment import finish_init
from pipeline.runtime.observability import logger, metrics, tracer

database = Database(DatabaseSettings.from_env())
publishers: dict[Destination, SqsPublisher | SnsControlPublisher] = {
    Destination.JOBS: SqsJobPublisher(QueueSettings.from_env()),
    Destination.WORKER_TASKS: worker_tasks_publisher(WorkerTasksQueueSettings.from_env()),
    Destination.WORKER_CONTROL: SnsControlPublisher(ControlTopicSettings.from_env()),
    Destination.WEBHOOKS: webhook_deliveries_publisher(WebhookDeliveriesQueueSettings.from_env()),
}
settings = RelaySettings.from_env()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = outbox_relay.relay_unsent(
        database,
        publishers,
        min_age_s=settings.min_age_s,
        # Stop claiming batches while there is still time to finish the one in flight.
        has_time_left=lambda: context.get_remaining_time_in_millis() > settings.stop_before_timeout_ms,
    )
    metrics.add_metric(name="OutboxMessagesSent", unit=MetricUnit.Count, value=result.sent)
    metrics.add_metric(name="OutboxMessagesFailed", unit=MetricUnit.Count, value=result.failed)
    metrics.add_metric(name="OutboxBacklog", unit=MetricUnit.Count, value=result.backlog.pending)
    metrics.add_metric(
        name="OutboxOldestPendingAge", unit=MetricUnit.Seconds, value=result.backlog.oldest_age_s
    )
    # An idle run (nothing sent, nothing waiting) is a metric, not a log line: it happens every minute.
    idle = result.sent == 0 and result.failed == 0 and result.backlog.pending == 0
    (logger.debug if idle else logger.info)(
        "outbox relay run", sent=result.sent, failed=result.failed, backlog=result.backlog.pending
    )
    return {"sent": result.sent, "failed": result.failed, "backlog": result.backlog.pending}


finish_init(release=[database.release, *(publisher.release for publisher in publishers.values())])

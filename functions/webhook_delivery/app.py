"""SQS consumer of the webhook deliveries queue: attempts each delivery that is due, and leaves a failed
one on the queue, hidden until its retry is due, or moves it to the dead-letter queue after the last."""

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

from pipeline.aws.webhook_deliveries_queue import DeliveryQueueSettings, SqsDeliveryQueue
from pipeline.db.database import Database, DatabaseSettings
from pipeline.runtime.execution_environment import finish_init
from pipeline.runtime.queue_consumer import sqs_record_consumer
from pipeline.webhooks import addresses as webhook_addresses
from pipeline.webhooks import delivery as webhook_delivery
from pipeline.webhooks.delivery import DeliverySettings, Outcome

database = Database(DatabaseSettings.from_env())
settings = DeliverySettings.from_env()
queue = SqsDeliveryQueue(DeliveryQueueSettings.from_env())
resolve = webhook_addresses.resolver_with_timeout(settings.timeout_s / 2)
lambda_handler = sqs_record_consumer(
    # A batch whose every delivery is waiting for its retry is a normal answer, not a failed invocation
    # (which would count as a function error): only the records are reported failed.
    BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False),
    lambda record: webhook_delivery.handle_record(
        database, record.body, record.receipt_handle, queue=queue, settings=settings, resolve=resolve
    ),
    {
        Outcome.DELIVERED: "WebhooksDelivered",
        Outcome.RETRY: "WebhookAttemptsFailed",
        Outcome.GAVE_UP: "WebhooksFailed",
        Outcome.GONE: "WebhookDeliveriesDropped",
        Outcome.UNPROCESSABLE: "WebhookMessagesUnprocessable",
    },
)
finish_init(release=[database.release, queue.release])

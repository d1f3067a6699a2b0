"""SQS consumer of the dataset uploads queue (the datasets bucket's ObjectCreated notifications):
validates each uploaded file and records the dataset ready or failed.

The base models' tokenizers load once per execution environment (about a second, 150 MB): this
function ships them in its own layer, not the shared one. Reports only the records that failed
(ReportBatchItemFailures), so SQS retries just those.
"""

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

from pipeline.aws.s3_objects import S3Objects, S3ObjectsSettings
from pipeline.catalog.base_models import BASE_MODELS
from pipeline.datasets import validator as dataset_validator
from pipeline.datasets.locations import DatasetsSettings
from pipeline.datasets.tokenizers import tokenizer_for
from pipeline.datasets.validation import ModelCounter
from pipeline.db.database import Database, DatabaseSettings
from pipeline.runtime.execution_environment import finish_init
from pipeline.runtime.queue_consumer import sqs_consumer

database = Database(DatabaseSettings.from_env())
objects = S3Objects(S3ObjectsSettings.from_env(), bucket=DatasetsSettings.from_env().datasets_bucket)
models = {
    model.id: ModelCounter(tokenizer_for(model.tokenizer).count_many, model.context_length)
    for model in BASE_MODELS.values()
}
lambda_handler = sqs_consumer(
    BatchProcessor(event_type=EventType.SQS),
    lambda body: dataset_validator.handle_notification(database, objects, body, models),
    {
        dataset_validator.Outcome.VALIDATED: "DatasetsValidated",
        dataset_validator.Outcome.NOT_A_DATASET: "DatasetNotificationsIgnored",
        dataset_validator.Outcome.UNKNOWN_OR_STALE: "DatasetNotificationsStale",
        dataset_validator.Outcome.UNPROCESSABLE: "DatasetNotificationsUnprocessable",
    },
)
finish_init(release=[database.release, objects.release])

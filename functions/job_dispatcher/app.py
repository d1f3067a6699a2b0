"""SQS consumer of the jobs queue: claims each queued job (queued -> initializing) and hands it to the
GPU workers (training_job.assigned on the worker tasks queue).

Reports only the records that failed (ReportBatchItemFailures), so SQS retries just those.
"""

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

from pipeline.artifacts.locations import ArtifactsSettings
from pipeline.aws.sqs_publisher import WorkerTasksQueueSettings, worker_tasks_publisher
from pipeline.datasets.locations import DatasetsSettings
from pipeline.db.database import Database, DatabaseSettings
from pipeline.runtime.execution_environment import finish_init
from pipeline.runtime.queue_consumer import sqs_consumer
from pipeline.workers import dispatch as job_dispatch

database = Database(DatabaseSettings.from_env())
workers = worker_tasks_publisher(WorkerTasksQueueSettings.from_env())
artifacts_bucket = ArtifactsSettings.from_env().artifacts_bucket
datasets_bucket = DatasetsSettings.from_env().datasets_bucket
lambda_handler = sqs_consumer(
    BatchProcessor(event_type=EventType.SQS),
    lambda body: job_dispatch.dispatch(database, body, workers, artifacts_bucket, datasets_bucket),
    {
        job_dispatch.Outcome.CLAIMED: "JobsClaimed",
        job_dispatch.Outcome.ALREADY_CLAIMED: "JobMessagesDuplicate",
        job_dispatch.Outcome.JOB_NOT_FOUND: "JobMessagesJobNotFound",
        job_dispatch.Outcome.UNPROCESSABLE: "JobMessagesUnprocessable",
    },
)
finish_init(release=[database.release, workers.release])

"""SQS FIFO consumer of the job reports queue: applies each GPU worker's report to its job.

Reports of one job arrive in order (MessageGroupId = job_id) and are applied once each (workers/reports
checks their sequence). A report that fails on the database holds back only its own job's later
reports (its message group), reported failed with it and delivered again in order; other jobs'
reports in the batch go on. A worker reporting on a job that is over or unknown is told to stop it on
the control topic.
"""

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor

from pipeline.aws.sns_publisher import ControlTopicSettings, SnsControlPublisher
from pipeline.db.database import Database, DatabaseSettings
from pipeline.runtime.execution_environment import finish_init
from pipeline.runtime.queue_consumer import sqs_consumer
from pipeline.workers import reports as job_reports

database = Database(DatabaseSettings.from_env())
workers = SnsControlPublisher(ControlTopicSettings.from_env())
settings = job_reports.ReportSettings.from_env()
lambda_handler = sqs_consumer(
    SqsFifoPartialProcessor(skip_group_on_error=True),
    lambda body: job_reports.apply_report(database, body, workers, time_scale=settings.worker_time_scale),
    {
        job_reports.Outcome.APPLIED: "WorkerReportsApplied",
        job_reports.Outcome.DUPLICATE: "WorkerReportsDuplicate",
        job_reports.Outcome.REFUSED: "WorkerReportsRefused",
        job_reports.Outcome.IMPLAUSIBLE: "WorkerReportsImplausible",
        job_reports.Outcome.JOB_NOT_FOUND: "WorkerReportsJobNotFound",
        job_reports.Outcome.UNPROCESSABLE: "WorkerReportsUnprocessable",
    },
)
finish_init(release=[database.release, workers.release])

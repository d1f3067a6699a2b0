"""Scheduled (every 5 minutes): fail running jobs whose worker has been silent too long and jobs no
worker started in time, and tell the workers to stop them."""

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from pipeline.aws.sns_publisher import ControlTopicSettings, SnsControlPublisher
from pipeline.db.database import Database, DatabaseSettings
from pipeline.runtime.execution_environment import finish_init
from pipeline.runtime.observability import logger, metrics, tracer
from pipeline.workers import watchdog as job_watchdog
from pipeline.workers.watchdog import WatchdogSettings

database = Database(DatabaseSettings.from_env())
workers = SnsControlPublisher(ControlTopicSettings.from_env())
settings = WatchdogSettings.from_env()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    now = datetime.now(UTC)
    silent = job_watchdog.fail_silent_jobs(database, workers, now=now, silence_s=settings.silence_s)
    unstarted = job_watchdog.fail_unstarted_jobs(
        database, workers, now=now, start_timeout_s=settings.start_timeout_s
    )
    metrics.add_metric(name="SilentJobsFailed", unit=MetricUnit.Count, value=silent.failed)
    metrics.add_metric(name="UnstartedJobsFailed", unit=MetricUnit.Count, value=unstarted.failed)
    answer = {
        "silent": silent.found,
        "failed": silent.failed,
        "unstarted": unstarted.found,
        "unstarted_failed": unstarted.failed,
    }
    (logger.info if silent.found or unstarted.found else logger.debug)(
        "job watchdog run",
        silent=silent.found,
        failed=silent.failed,
        unstarted=unstarted.found,
        unstarted_failed=unstarted.failed,
    )
    return answer


finish_init(release=[database.release, workers.release])

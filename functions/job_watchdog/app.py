"""Scheduled (every 5 minutes): fail running jobs whose worker has been silent too long, and tell the
workers to stop them."""

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
    run = job_watchdog.fail_silent_jobs(
        database, workers, now=datetime.now(UTC), silence_s=settings.silence_s
    )
    metrics.add_metric(name="SilentJobsFailed", unit=MetricUnit.Count, value=run.failed)
    (logger.info if run.silent else logger.debug)("job watchdog run", silent=run.silent, failed=run.failed)
    return {"silent": run.silent, "failed": run.failed}


finish_init(release=[database.release, workers.release])

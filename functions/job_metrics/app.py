"""GET /jobs/{job_id}/metrics: one of the caller's jobs' loss chart (train and validation loss by step)."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.db.database import Database, DatabaseSettings
from pipeline.history import metrics as job_metrics
from pipeline.history.metric_models import JobMetricsQuery
from pipeline.http.app import caller_id, create_app, lambda_handler_for, parse, success
from pipeline.runtime.execution_environment import finish_init

database = Database(DatabaseSettings.from_env())


async def job_metrics_chart(request: Request) -> Response:
    user_id = caller_id(request)
    query = parse(JobMetricsQuery, dict(request.query_params))
    return success(job_metrics.metrics_for_job(database, user_id, request.path_params["job_id"], query))


app = create_app([Route("/jobs/{job_id}/metrics", job_metrics_chart, methods=["GET"])])
lambda_handler = lambda_handler_for(app)
finish_init(app, release=[database.release])

"""POST /jobs/{job_id}/cancel: cancel one of the caller's jobs, and say what it costs."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.aws.sns_publisher import ControlTopicSettings, SnsControlPublisher
from pipeline.db.database import Database, DatabaseSettings
from pipeline.http.app import caller_id, create_app, lambda_handler_for, success
from pipeline.jobs import cancellation as job_cancellation
from pipeline.runtime.execution_environment import finish_init

database = Database(DatabaseSettings.from_env())
workers = SnsControlPublisher(ControlTopicSettings.from_env())


async def cancel_job(request: Request) -> Response:
    user_id = caller_id(request)
    return success(job_cancellation.cancel_job(database, user_id, request.path_params["job_id"], workers))


app = create_app([Route("/jobs/{job_id}/cancel", cancel_job, methods=["POST"])])
lambda_handler = lambda_handler_for(app)
finish_init(app, release=[database.release, workers.release])

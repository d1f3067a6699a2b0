"""GET /jobs/{job_id}/checkpoints: one of the caller's jobs' checkpoints (step, epoch, losses) and
whether its final adapter can be downloaded."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.artifacts import downloads as job_artifacts
from pipeline.db.database import Database, DatabaseSettings
from pipeline.http.app import caller_id, create_app, lambda_handler_for, success
from pipeline.runtime.execution_environment import finish_init

database = Database(DatabaseSettings.from_env())


async def job_checkpoints(request: Request) -> Response:
    user_id = caller_id(request)
    return success(job_artifacts.checkpoints_for_job(database, user_id, request.path_params["job_id"]))


app = create_app([Route("/jobs/{job_id}/checkpoints", job_checkpoints, methods=["GET"])])
lambda_handler = lambda_handler_for(app)
finish_init(app, release=[database.release])

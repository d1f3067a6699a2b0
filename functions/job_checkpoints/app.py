"""GET /jobs/{job_id}/checkpoints: a page of one of the caller's jobs' checkpoints (step, epoch, losses),
by cursor, and whether its final adapter can be downloaded."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.artifacts import downloads as job_artifacts
from pipeline.artifacts.models import CheckpointsQuery
from pipeline.db.cursor import CursorSecret, PaginationSettings
from pipeline.db.database import Database, DatabaseSettings
from pipeline.http.app import caller_id, create_app, lambda_handler_for, parse, success
from pipeline.runtime.execution_environment import finish_init

database = Database(DatabaseSettings.from_env())
cursor_secret = CursorSecret(PaginationSettings.from_env())


async def job_checkpoints(request: Request) -> Response:
    user_id = caller_id(request)
    query = parse(CheckpointsQuery, dict(request.query_params))
    page = job_artifacts.checkpoints_for_job(
        database, user_id, request.path_params["job_id"], query, cursor_secret.value()
    )
    return success(page)


app = create_app([Route("/jobs/{job_id}/checkpoints", job_checkpoints, methods=["GET"])])
lambda_handler = lambda_handler_for(app)
finish_init(app, release=[database.release])

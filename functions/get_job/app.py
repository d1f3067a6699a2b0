"""GET /jobs/{job_id}: one of the caller's training jobs, with its dataset."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.db.database import Database, DatabaseSettings
from pipeline.http.app import caller_id, create_app, lambda_handler_for, success
from pipeline.jobs import queries as job_queries
from pipeline.runtime.execution_environment import finish_init

database = Database(DatabaseSettings.from_env())


async def get_job(request: Request) -> Response:
    user_id = caller_id(request)
    job = job_queries.get_job(database, user_id, request.path_params["job_id"])
    return success(job)


app = create_app([Route("/jobs/{job_id}", get_job, methods=["GET"])])
lambda_handler = lambda_handler_for(app)
finish_init(app, release=[database.release])

"""GET /jobs: the caller's training jobs, newest first, paginated, optionally by status."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.db.cursor import CursorSecret, PaginationSettings
from pipeline.db.database import Database, DatabaseSettings
from pipeline.http.app import caller_id, create_app, lambda_handler_for, parse, success
from pipeline.jobs import queries as job_queries
from pipeline.jobs.list_models import ListJobsQuery
from pipeline.runtime.execution_environment import finish_init

database = Database(DatabaseSettings.from_env())
cursor_secret = CursorSecret(PaginationSettings.from_env())


async def list_jobs(request: Request) -> Response:
    user_id = caller_id(request)
    query = parse(ListJobsQuery, dict(request.query_params))
    page = job_queries.list_jobs(database, user_id, query, cursor_secret.value())
    return success(page)


app = create_app([Route("/jobs", list_jobs, methods=["GET"])])
lambda_handler = lambda_handler_for(app)
finish_init(app, release=[database.release])

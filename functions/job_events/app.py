"""GET /jobs/{job_id}/events: one of the caller's jobs' event feed, oldest first, by cursor."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.db.cursor import CursorSecret, PaginationSettings
from pipeline.db.database import Database, DatabaseSettings
from pipeline.history import feed as job_events
from pipeline.history.feed_models import JobEventsQuery
from pipeline.http.app import caller_id, create_app, lambda_handler_for, parse, success
from pipeline.runtime.execution_environment import finish_init

database = Database(DatabaseSettings.from_env())
cursor_secret = CursorSecret(PaginationSettings.from_env())


async def list_job_events(request: Request) -> Response:
    user_id = caller_id(request)
    query = parse(JobEventsQuery, dict(request.query_params))
    return success(
        job_events.list_events(database, user_id, request.path_params["job_id"], query, cursor_secret.value())
    )


app = create_app([Route("/jobs/{job_id}/events", list_job_events, methods=["GET"])])
lambda_handler = lambda_handler_for(app)
finish_init(app, release=[database.release])

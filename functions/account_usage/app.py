"""GET /account/usage?month=YYYY-MM: the month's spend (charged, committed) against the caller's
limit, and its jobs, newest first, by cursor."""

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.budgets import usage
from pipeline.budgets.models import UsageQuery
from pipeline.db.cursor import CursorSecret, PaginationSettings
from pipeline.db.database import Database, DatabaseSettings
from pipeline.http.app import caller_id, create_app, lambda_handler_for, parse, success
from pipeline.runtime.execution_environment import finish_init

database = Database(DatabaseSettings.from_env())
cursor_secret = CursorSecret(PaginationSettings.from_env())


async def account_usage(request: Request) -> Response:
    user_id = caller_id(request)
    query = parse(UsageQuery, dict(request.query_params))
    return success(usage.monthly_usage(database, user_id, query, datetime.now(UTC), cursor_secret.value()))


app = create_app([Route("/account/usage", account_usage, methods=["GET"])])
lambda_handler = lambda_handler_for(app)
finish_init(app, release=[database.release])

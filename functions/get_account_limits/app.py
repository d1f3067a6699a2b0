"""GET /account/limits: the caller's monthly spending limit (null: none)."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.budgets import limits
from pipeline.db.database import Database, DatabaseSettings
from pipeline.http.app import caller_id, create_app, lambda_handler_for, success
from pipeline.runtime.execution_environment import finish_init

database = Database(DatabaseSettings.from_env())


async def get_account_limits(request: Request) -> Response:
    return success(limits.get_limits(database, caller_id(request)))


app = create_app([Route("/account/limits", get_account_limits, methods=["GET"])])
lambda_handler = lambda_handler_for(app)
finish_init(app, release=[database.release])

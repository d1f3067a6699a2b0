"""PUT /account/limits: set (or, with null, remove) the caller's monthly spending limit."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.budgets import limits
from pipeline.budgets.models import UpdateLimitsRequest
from pipeline.db.database import Database, DatabaseSettings
from pipeline.http.app import caller_id, create_app, lambda_handler_for, parse, read_json_object, success
from pipeline.runtime.execution_environment import finish_init

database = Database(DatabaseSettings.from_env())


async def put_account_limits(request: Request) -> Response:
    user_id = caller_id(request)
    body = parse(UpdateLimitsRequest, await read_json_object(request))
    return success(limits.put_limits(database, user_id, body))


app = create_app([Route("/account/limits", put_account_limits, methods=["PUT"])])
lambda_handler = lambda_handler_for(app)
finish_init(app, release=[database.release])

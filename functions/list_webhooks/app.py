"""GET /webhooks: the caller's webhook endpoints (never their secrets)."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.db.database import Database, DatabaseSettings
from pipeline.http.app import caller_id, create_app, lambda_handler_for, success
from pipeline.runtime.execution_environment import finish_init
from pipeline.webhooks import endpoints as webhook_endpoints

database = Database(DatabaseSettings.from_env())


async def list_webhooks(request: Request) -> Response:
    return success(webhook_endpoints.list_endpoints(database, caller_id(request)))


app = create_app([Route("/webhooks", list_webhooks, methods=["GET"])])
lambda_handler = lambda_handler_for(app)
finish_init(app, release=[database.release])

"""GET /webhooks/{webhook_id}/deliveries: one of the caller's endpoints' deliveries, newest first, with
every attempt (status, time, response code)."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.db.cursor import CursorSecret, PaginationSettings
from pipeline.db.database import Database, DatabaseSettings
from pipeline.http.app import caller_id, create_app, lambda_handler_for, parse, success
from pipeline.runtime.execution_environment import finish_init
from pipeline.webhooks import endpoints as webhook_endpoints
from pipeline.webhooks.models import WebhookDeliveriesQuery

database = Database(DatabaseSettings.from_env())
cursor_secret = CursorSecret(PaginationSettings.from_env())


async def list_webhook_deliveries(request: Request) -> Response:
    user_id = caller_id(request)
    query = parse(WebhookDeliveriesQuery, dict(request.query_params))
    page = webhook_endpoints.deliveries(
        database, user_id, request.path_params["webhook_id"], query, cursor_secret.value()
    )
    return success(page)


app = create_app([Route("/webhooks/{webhook_id}/deliveries", list_webhook_deliveries, methods=["GET"])])
lambda_handler = lambda_handler_for(app)
finish_init(app, release=[database.release])

"""POST /webhooks: register a receiver of the caller's job events; its signing secret is in this
answer only."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.db.database import Database, DatabaseSettings
from pipeline.http.app import caller_id, create_app, lambda_handler_for, parse, read_json_object, success
from pipeline.runtime.execution_environment import finish_init
from pipeline.webhooks import addresses as webhook_addresses
from pipeline.webhooks import endpoints as webhook_endpoints
from pipeline.webhooks.addresses import ReceiverSettings
from pipeline.webhooks.models import CreateWebhookRequest

database = Database(DatabaseSettings.from_env())
settings = ReceiverSettings.from_env()
# A slow resolver must not hold the request: past this the host is checked at delivery only.
resolve = webhook_addresses.resolver_with_timeout(2.0)


async def create_webhook(request: Request) -> Response:
    user_id = caller_id(request)
    body = parse(CreateWebhookRequest, await read_json_object(request))
    created = webhook_endpoints.create(
        database, user_id, body, allow_local=settings.allow_local_receivers, resolve=resolve
    )
    return success(created, status_code=201)


app = create_app([Route("/webhooks", create_webhook, methods=["POST"])])
lambda_handler = lambda_handler_for(app)
finish_init(app, release=[database.release])

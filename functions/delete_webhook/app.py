"""DELETE /webhooks/{webhook_id}: delete one of the caller's webhook endpoints and its deliveries."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.db.database import Database, DatabaseSettings
from pipeline.http.app import caller_id, create_app, lambda_handler_for
from pipeline.runtime.execution_environment import finish_init
from pipeline.webhooks import endpoints as webhook_endpoints

database = Database(DatabaseSettings.from_env())


async def delete_webhook(request: Request) -> Response:
    webhook_endpoints.delete(database, caller_id(request), request.path_params["webhook_id"])
    return Response(status_code=204)


app = create_app([Route("/webhooks/{webhook_id}", delete_webhook, methods=["DELETE"])])
lambda_handler = lambda_handler_for(app)
finish_init(app, release=[database.release])

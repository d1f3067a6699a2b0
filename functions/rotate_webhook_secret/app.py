"""POST /webhooks/{webhook_id}/rotate-secret: a new signing secret, in this answer only; the previous
one signs beside it for a day."""

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.db.database import Database, DatabaseSettings
from pipeline.http.app import caller_id, create_app, lambda_handler_for, success
from pipeline.runtime.execution_environment import finish_init
from pipeline.webhooks import endpoints as webhook_endpoints

database = Database(DatabaseSettings.from_env())


async def rotate_webhook_secret(request: Request) -> Response:
    rotated = webhook_endpoints.rotate_secret(
        database, caller_id(request), request.path_params["webhook_id"], datetime.now(UTC)
    )
    return success(rotated)


app = create_app([Route("/webhooks/{webhook_id}/rotate-secret", rotate_webhook_secret, methods=["POST"])])
lambda_handler = lambda_handler_for(app)
finish_init(app, release=[database.release])

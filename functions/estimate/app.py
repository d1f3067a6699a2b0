"""POST /jobs/estimate: the cost of a training configuration on one of the caller's datasets."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.catalog.configuration import EstimateRequest
from pipeline.db.database import Database, DatabaseSettings
from pipeline.http.app import caller_id, create_app, lambda_handler_for, parse, read_json_object, success
from pipeline.pricing import estimates
from pipeline.runtime.execution_environment import finish_init

database = Database(DatabaseSettings.from_env())


async def estimate(request: Request) -> Response:
    user_id = caller_id(request)
    body = parse(EstimateRequest, await read_json_object(request))
    result = estimates.estimate_for_user(database, user_id, body)
    return success(result)


app = create_app([Route("/jobs/estimate", estimate, methods=["POST"])])
lambda_handler = lambda_handler_for(app)
finish_init(app, release=[database.release])

"""GET /datasets/{dataset_id}: one of the caller's datasets, for the page to show before a job exists."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.datasets import queries as dataset_queries
from pipeline.db.database import Database, DatabaseSettings
from pipeline.http.app import caller_id, create_app, lambda_handler_for, success
from pipeline.runtime.execution_environment import finish_init

database = Database(DatabaseSettings.from_env())


async def get_dataset(request: Request) -> Response:
    user_id = caller_id(request)
    dataset = dataset_queries.get_dataset(database, user_id, request.path_params["dataset_id"])
    return success(dataset)


app = create_app([Route("/datasets/{dataset_id}", get_dataset, methods=["GET"])])
lambda_handler = lambda_handler_for(app)
finish_init(app, release=[database.release])

"""GET /datasets?limit=N&cursor=...: the caller's datasets, newest first, with their status."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.datasets import queries as dataset_queries
from pipeline.db.cursor import CursorSecret, PaginationSettings
from pipeline.db.database import Database, DatabaseSettings
from pipeline.http.app import caller_id, create_app, lambda_handler_for, parse, success
from pipeline.runtime.execution_environment import finish_init

database = Database(DatabaseSettings.from_env())
cursor_secret = CursorSecret(PaginationSettings.from_env())


async def list_datasets(request: Request) -> Response:
    user_id = caller_id(request)
    query = parse(dataset_queries.DatasetsQuery, dict(request.query_params))
    return success(dataset_queries.list_datasets(database, user_id, query, cursor_secret.value()))


app = create_app([Route("/datasets", list_datasets, methods=["GET"])])
lambda_handler = lambda_handler_for(app)
finish_init(app, release=[database.release])

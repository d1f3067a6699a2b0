"""DELETE /datasets/{dataset_id}: one of the caller's datasets and its file (409 while a job that has
not ended uses it)."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.aws.s3_objects import S3Objects, S3ObjectsSettings
from pipeline.datasets import deletion as dataset_deletion
from pipeline.datasets.locations import DatasetsSettings
from pipeline.db.database import Database, DatabaseSettings
from pipeline.http.app import caller_id, create_app, lambda_handler_for
from pipeline.runtime.execution_environment import finish_init

database = Database(DatabaseSettings.from_env())
objects = S3Objects(S3ObjectsSettings.from_env(), bucket=DatasetsSettings.from_env().datasets_bucket)


async def delete_dataset(request: Request) -> Response:
    user_id = caller_id(request)
    dataset_deletion.delete_dataset(database, objects, user_id, request.path_params["dataset_id"])
    return Response(status_code=204)


app = create_app([Route("/datasets/{dataset_id}", delete_dataset, methods=["DELETE"])])
lambda_handler = lambda_handler_for(app)
finish_init(app, release=[database.release, objects.release])

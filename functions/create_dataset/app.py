"""POST /datasets: a new dataset of the caller's, and the presigned S3 form that uploads its file."""

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.aws.s3_presigner import PresignerSettings, S3Presigner
from pipeline.datasets import uploads as dataset_uploads
from pipeline.datasets.locations import DatasetsSettings
from pipeline.datasets.models import CreateDatasetRequest
from pipeline.db.database import Database, DatabaseSettings
from pipeline.http.app import caller_id, create_app, lambda_handler_for, parse, read_json_object, success
from pipeline.runtime.execution_environment import finish_init

database = Database(DatabaseSettings.from_env())
presigner = S3Presigner(PresignerSettings.from_env(), bucket=DatasetsSettings.from_env().datasets_bucket)


async def create_dataset(request: Request) -> Response:
    user_id = caller_id(request)
    body = parse(CreateDatasetRequest, await read_json_object(request))
    created = dataset_uploads.create_dataset(database, presigner, user_id, body, datetime.now(UTC))
    return success(created, status_code=201)


app = create_app([Route("/datasets", create_dataset, methods=["POST"])])
lambda_handler = lambda_handler_for(app)
finish_init(app, release=[database.release, presigner.release])

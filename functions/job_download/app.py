"""GET /jobs/{job_id}/download?artifact=adapter|checkpoint&step=N: a short-lived presigned URL for
one of the caller's jobs' final adapter or one of its checkpoints."""

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.artifacts import downloads as job_artifacts
from pipeline.artifacts.locations import ArtifactsSettings
from pipeline.artifacts.models import DownloadQuery
from pipeline.aws.s3_presigner import PresignerSettings, S3Presigner
from pipeline.db.database import Database, DatabaseSettings
from pipeline.http.app import caller_id, create_app, lambda_handler_for, parse, success
from pipeline.runtime.execution_environment import finish_init

database = Database(DatabaseSettings.from_env())
presigner = S3Presigner(PresignerSettings.from_env(), bucket=ArtifactsSettings.from_env().artifacts_bucket)


async def job_download(request: Request) -> Response:
    user_id = caller_id(request)
    query = parse(DownloadQuery, dict(request.query_params))
    answer = job_artifacts.download(
        database, presigner, user_id, request.path_params["job_id"], query, datetime.now(UTC)
    )
    return success(answer)


app = create_app([Route("/jobs/{job_id}/download", job_download, methods=["GET"])])
lambda_handler = lambda_handler_for(app)
finish_init(app, release=[database.release, presigner.release])

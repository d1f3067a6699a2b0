"""POST /jobs: create a training job (stored as queued, announced, handed to the jobs queue)."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.aws.sqs_publisher import QueueSettings, SqsJobPublisher
from pipeline.catalog.configuration import CreateJobRequest
from pipeline.db.database import Database, DatabaseSettings
from pipeline.http.app import (
    caller_id,
    create_app,
    idempotency_key,
    lambda_handler_for,
    parse,
    read_json_object,
    success,
)
from pipeline.jobs import creation as job_creation
from pipeline.runtime.execution_environment import finish_init
from pipeline.runtime.observability import metrics

database = Database(DatabaseSettings.from_env())
publisher = SqsJobPublisher(QueueSettings.from_env())


async def create_job(request: Request) -> Response:
    user_id = caller_id(request)
    key = idempotency_key(request)
    body = parse(CreateJobRequest, await read_json_object(request))
    created = job_creation.create_job(database, user_id, body, publisher, idempotency_key=key)
    if created.replayed:
        return success(created.job, status_code=201, headers={"Idempotent-Replayed": "true"})
    metrics.add_metric(name="JobsCreated", unit="Count", value=1)
    return success(created.job, status_code=201)


app = create_app([Route("/jobs", create_job, methods=["POST"])])
lambda_handler = lambda_handler_for(app)
finish_init(app, release=[database.release, publisher.release])

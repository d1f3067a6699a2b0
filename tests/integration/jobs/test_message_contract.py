"""The queue message contract: the committed JSON Schema matches the model and real messages."""

import copy
import json
from typing import Any
from uuid import uuid4

import jsonschema
import psycopg
import pytest
from psycopg.rows import DictRow

from functions.create_job import app as create_job_app
from pipeline.jobs.queue_messages import TrainingJobQueuedMessage
from tests.api_client import build_event, invoke
from tests.factories import create_body, insert_dataset
from tests.paths import REPO_ROOT
from tests.services import QueueReader
from tools.message_schema import job_queued_schema

SCHEMA_FILE = REPO_ROOT / "schemas" / "training_job.queued.v1.schema.json"
COMMITTED: dict[str, Any] = json.loads(SCHEMA_FILE.read_text())


def test_committed_schema_is_generated_from_the_model() -> None:
    assert job_queued_schema() == COMMITTED, "run `make schemas` and commit the result"


@pytest.fixture
def sent_message(db: psycopg.Connection[DictRow], sqs_queue: QueueReader) -> dict[str, Any]:
    user_id = uuid4()
    body = create_body(insert_dataset(db, user_id=user_id))
    assert invoke(create_job_app, build_event("create_job", sub=user_id, body=body)).status == 201
    (message,) = sqs_queue.receive_all()
    return json.loads(message["Body"])  # type: ignore[no-any-return]


def test_sent_message_conforms_to_the_committed_schema(sent_message: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(COMMITTED).validate(sent_message)
    assert TrainingJobQueuedMessage.model_validate(sent_message).job_id


@pytest.mark.parametrize(
    "break_it",
    [
        lambda m: m.pop("job_id"),
        lambda m: m.update(version=2),
        lambda m: m.update(type="training_job.started"),
        lambda m: m["gpu_config"].update(type="TPU"),
        lambda m: m.update(estimated_total_cost="5.94"),
    ],
    ids=["no-job-id", "unknown-version", "other-type", "unknown-gpu", "cost-as-string"],
)
def test_schema_rejects_messages_that_break_the_contract(sent_message: dict[str, Any], break_it: Any) -> None:
    broken = copy.deepcopy(sent_message)
    break_it(broken)

    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(COMMITTED).validate(broken)

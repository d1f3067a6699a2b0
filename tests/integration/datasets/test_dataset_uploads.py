"""POST /datasets, the upload's validation and GET /datasets: from a name to a dataset ready to train
on, with real statistics, or failed with its errors by line."""

import base64
import hashlib
import hmac
import json
import os
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import boto3
import psycopg
import pytest
from psycopg.rows import DictRow

from functions.create_dataset import app as create_dataset_app
from functions.create_job import app as create_job_app
from functions.delete_dataset import app as delete_dataset_app
from functions.estimate import app as estimate_app
from functions.get_dataset import app as get_dataset_app
from functions.get_job import app as get_job_app
from functions.job_dispatcher import app as dispatcher_app
from functions.list_datasets import app as list_datasets_app
from functions.list_jobs import app as list_jobs_app
from pipeline.aws.s3_objects import S3Objects, S3ObjectsSettings
from pipeline.catalog.base_models import BASE_MODELS
from pipeline.datasets import validator
from pipeline.datasets.tokenizers import tokenizer_for
from pipeline.datasets.validation import ModelCounter
from pipeline.db.database import Database
from tests.api_client import FakeLambdaContext, build_event, invoke, load_event
from tests.services import QueueReader

BUCKET = os.environ["DATASETS_BUCKET"]
MODELS = {
    model.id: ModelCounter(tokenizer_for(model.tokenizer).count_many, model.context_length)
    for model in BASE_MODELS.values()
}
# One token of "a" and one of "b" in every catalog model's vocabulary: 2 tokens an example.
PAIR = {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}
GIB = 1024**3


def _create(user_id: UUID, body: Any) -> Any:
    return invoke(create_dataset_app, build_event("create_dataset", sub=user_id, body=body))


def _get(user_id: UUID, dataset_id: str) -> Any:
    return invoke(get_dataset_app, build_event("get_dataset", sub=user_id, path=f"/datasets/{dataset_id}"))


def _list(user_id: UUID, **query: str) -> Any:
    return invoke(list_datasets_app, build_event("list_datasets", sub=user_id, query=query or {}))


def _jsonl(*lines: Any) -> bytes:
    return b"".join(json.dumps(line).encode() + b"\n" for line in lines)


def _upload(key: str, content: bytes) -> None:
    boto3.client("s3", region_name="us-east-1").put_object(Bucket=BUCKET, Key=key, Body=content)


def _notification(key: str, sequencer: str = "0065F1A2B3C4D5E6F7") -> str:
    """The body S3 puts on the queue for an upload through a POST form (keys URL-encoded)."""
    return json.dumps(
        {
            "Records": [
                {
                    "eventVersion": "2.1",
                    "eventSource": "aws:s3",
                    "awsRegion": "us-east-1",
                    "eventTime": "2026-12-07T12:00:00.000Z",
                    "eventName": "ObjectCreated:Post",
                    "s3": {
                        "s3SchemaVersion": "1.0",
                        "bucket": {"name": BUCKET, "arn": f"arn:aws:s3:::{BUCKET}"},
                        "object": {"key": key, "size": 1, "eTag": "x", "sequencer": sequencer},
                    },
                }
            ]
        }
    )


@pytest.fixture
def validator_db(worker_db: Database) -> Database:
    return worker_db  # the validator's template role is the workers' (pipeline_worker)


def _validate(database: Database, key: str, sequencer: str = "0065F1A2B3C4D5E6F7") -> validator.Outcome:
    objects = S3Objects(S3ObjectsSettings.model_validate({"AWS_REGION": "us-east-1"}), bucket=BUCKET)
    return validator.handle_notification(database, objects, _notification(key, sequencer), MODELS)


def _created(user_id: UUID, name: str = "Support chats") -> dict[str, Any]:
    response = _create(user_id, {"name": name})
    assert response.status == 201, response.raw_body
    data: dict[str, Any] = response.body["data"]
    return data


# ---- the upload form --------------------------------------------------------------------------------


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def post_policy_refusal(fields: dict[str, str], secret_key: str, at: datetime) -> str | None:
    """Why S3 would refuse a POST with these fields at `at` (its signature and expiry), or None."""
    policy = json.loads(base64.b64decode(fields["policy"]))
    if at >= datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00")):
        return "Invalid according to Policy: Policy expired"
    _, day, region, service, _ = fields["x-amz-credential"].split("/")
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret_key}".encode(), day), region), service), "aws4_request")
    expected = hmac.new(key, fields["policy"].encode(), hashlib.sha256).hexdigest()
    return None if hmac.compare_digest(expected, fields["x-amz-signature"]) else "SignatureDoesNotMatch"


def test_a_new_dataset_is_uploading_with_a_form_signed_for_its_one_key_one_gib_and_one_hour(
    db: psycopg.Connection[DictRow],
) -> None:
    user_id = uuid4()
    before = datetime.now(UTC)

    data = _created(user_id, "  Support chats  ")

    dataset, upload = data["dataset"], data["upload"]
    assert (dataset["name"], dataset["status"], dataset["training_ready"], dataset["ready_for_training"]) == (
        "Support chats",
        "uploading",
        False,
        False,
    )
    key = f"users/{user_id}/datasets/{dataset['id']}/source.jsonl"
    assert (upload["method"], upload["max_bytes"], upload["fields"]["key"]) == ("POST", GIB, key)
    assert upload["url"].startswith(f"https://{BUCKET}.s3")
    expires_at = datetime.fromisoformat(upload["expires_at"].replace("Z", "+00:00"))
    assert before + timedelta(seconds=3599) <= expires_at <= datetime.now(UTC) + timedelta(seconds=3600)
    assert dataset["upload_expires_at"] == upload["expires_at"]
    policy = json.loads(base64.b64decode(upload["fields"]["policy"]))
    # What S3 enforces from the signed policy: the bucket, exactly this key, 1 byte to 1 GiB.
    assert {"bucket": BUCKET} in policy["conditions"]
    assert {"key": key} in policy["conditions"]
    assert ["content-length-range", 1, GIB] in policy["conditions"]
    assert abs(datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00")) - expires_at) < timedelta(
        seconds=5
    )
    secret = os.environ["AWS_SECRET_ACCESS_KEY"]
    assert post_policy_refusal(upload["fields"], secret, datetime.now(UTC)) is None
    assert post_policy_refusal(upload["fields"], secret, expires_at + timedelta(seconds=5)) is not None
    tampered = dict(upload["fields"]) | {
        "policy": base64.b64encode(
            json.dumps(
                policy | {"conditions": [c for c in policy["conditions"] if c != {"key": key}]}
            ).encode()
        ).decode()
    }
    assert post_policy_refusal(tampered, secret, datetime.now(UTC)) == "SignatureDoesNotMatch"
    stored = db.execute("select user_id, status, source_key from lora_datasets").fetchall()
    assert stored == [{"user_id": user_id, "status": "uploading", "source_key": key}]


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "name"), ({"name": ""}, "name"), ({"name": "x" * 201}, "name"), ({"name": "a\x00b"}, "name")],
)
def test_a_dataset_needs_a_storable_name_of_1_to_200_characters(
    db: psycopg.Connection[DictRow], body: dict[str, Any], field: str
) -> None:
    response = _create(uuid4(), body)

    assert response.status == 400, response.raw_body
    assert list(response.body["details"]) == [field]
    assert db.execute("select count(*) as n from lora_datasets").fetchone() == {"n": 0}


# ---- validation -------------------------------------------------------------------------------------


def test_an_uploaded_file_is_validated_ready_with_its_counts_and_prices_by_them(
    db: psycopg.Connection[DictRow], validator_db: Database
) -> None:
    user_id = uuid4()
    dataset = _created(user_id)["dataset"]
    key = f"users/{user_id}/datasets/{dataset['id']}/source.jsonl"
    content = _jsonl(*[PAIR] * 40)
    _upload(key, content)

    assert _validate(validator_db, key) is validator.Outcome.VALIDATED

    shown = _get(user_id, dataset["id"]).body["data"]
    assert (shown["status"], shown["training_ready"], shown["ready_for_training"]) == ("ready", True, True)
    # 40 examples, 2 held out for the validation loss, 38 trained on, 2 tokens each.
    assert (shown["examples"], shown["held_out"], shown["total_training_pairs"], shown["total_tokens"]) == (
        40,
        2,
        38,
        76,
    )
    assert (shown["size_bytes"], shown["sha256"]) == (len(content), hashlib.sha256(content).hexdigest())
    assert shown["token_counts"]["llama-3.1-70b"] == {
        "total": 76,
        "minimum": 2,
        "median": 2,
        "p95": 2,
        "maximum": 2,
        "over_context": 0,
    }
    assert (shown["errors"], shown["error_count"], shown["upload_expires_at"]) == (None, 0, None)
    # The estimate prices the counted figures: 38 pairs of 2 tokens, Fast on one A100-80GB.
    estimate = invoke(
        estimate_app,
        build_event(
            "estimate",
            sub=user_id,
            body={
                "dataset_id": dataset["id"],
                "base_model": "llama-3.2-3b",
                "gpu_config": {"type": "A100-80GB", "count": 1},
                "hyperparameters": {"batch_size": 8, "epochs": 1, "learning_rate": 0.0001, "rank": 8},
            },
        ),
    )
    assert estimate.body["data"]["training_details"]["total_steps"] == 5  # ceil(38 / 8)


def test_a_bad_file_fails_with_its_errors_by_line(
    db: psycopg.Connection[DictRow], validator_db: Database
) -> None:
    user_id = uuid4()
    dataset = _created(user_id)["dataset"]
    key = f"users/{user_id}/datasets/{dataset['id']}/source.jsonl"
    _upload(key, _jsonl(*[PAIR] * 10) + b"{oops\n" + _jsonl({"messages": [PAIR["messages"][1]] * 0}))

    _validate(validator_db, key)

    shown = _get(user_id, dataset["id"]).body["data"]
    assert (shown["status"], shown["training_ready"], shown["error_count"]) == ("failed", False, 2)
    assert [(e["line"], e["code"]) for e in shown["errors"]] == [(11, "invalid_json"), (12, "unknown_format")]
    assert shown["errors"][0]["message"].startswith("The line is not valid JSON")


def test_an_older_uploads_late_notification_changes_nothing(
    db: psycopg.Connection[DictRow], validator_db: Database
) -> None:
    user_id = uuid4()
    dataset = _created(user_id)["dataset"]
    key = f"users/{user_id}/datasets/{dataset['id']}/source.jsonl"
    _upload(key, _jsonl(*[PAIR] * 20))
    assert _validate(validator_db, key, sequencer="0065F1A2B3C4D5E6F8") is validator.Outcome.VALIDATED

    assert _validate(validator_db, key, sequencer="0065F1A2B3C4D5E6F7") is validator.Outcome.UNKNOWN_OR_STALE
    assert _validate(validator_db, key, sequencer="65F1A2B3C4D5E6F7") is validator.Outcome.UNKNOWN_OR_STALE

    assert _get(user_id, dataset["id"]).body["data"]["examples"] == 20


@pytest.mark.parametrize(
    "key",
    [
        "users/{user}/datasets/{dataset}/other.jsonl",
        "users/{user}/jobs/{dataset}/source.jsonl",
        "users/{other}/datasets/{dataset}/source.jsonl",  # another user's path to this dataset
        "users/{user}/datasets/{dataset}/../source.jsonl",
    ],
)
def test_a_notification_validates_only_its_own_users_dataset_at_its_own_key(
    db: psycopg.Connection[DictRow], validator_db: Database, key: str
) -> None:
    user_id = uuid4()
    dataset = _created(user_id)["dataset"]
    named = key.format(user=user_id, dataset=dataset["id"], other=uuid4())
    _upload(named, _jsonl(*[PAIR] * 20))

    outcome = _validate(validator_db, named)

    assert outcome in (validator.Outcome.NOT_A_DATASET, validator.Outcome.UNKNOWN_OR_STALE)
    row = db.execute("select status, examples from lora_datasets").fetchone()
    assert row == {"status": "uploading", "examples": None}


def test_s3s_test_event_and_a_body_that_is_no_notification_are_acknowledged(validator_db: Database) -> None:
    objects = S3Objects(S3ObjectsSettings.model_validate({"AWS_REGION": "us-east-1"}), bucket=BUCKET)
    test_event = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": BUCKET})

    assert (
        validator.handle_notification(validator_db, objects, test_event, MODELS)
        is validator.Outcome.NOT_A_DATASET
    )
    assert (
        validator.handle_notification(validator_db, objects, "[]", MODELS) is validator.Outcome.UNPROCESSABLE
    )


# ---- listing ----------------------------------------------------------------------------------------


def test_the_list_is_the_callers_newest_first_a_page_at_a_time(db: psycopg.Connection[DictRow]) -> None:
    user_id = uuid4()
    names = [f"set {n}" for n in range(5)]
    for name in names:
        _created(user_id, name)
    _created(uuid4(), "someone else's")

    first = _list(user_id, limit="2").body["data"]
    second = _list(user_id, limit="2", cursor=first["next_cursor"]).body["data"]
    third = _list(user_id, limit="2", cursor=second["next_cursor"]).body["data"]

    listed = [d["name"] for page in (first, second, third) for d in page["datasets"]]
    assert listed == list(reversed(names))
    assert third["next_cursor"] is None
    assert _list(uuid4(), cursor=first["next_cursor"]).status == 400  # another user's cursor


def test_a_job_on_an_uploaded_dataset_tells_its_worker_where_the_validated_file_is(
    db: psycopg.Connection[DictRow],
    validator_db: Database,
    sqs_queue: QueueReader,
    worker_tasks_queue: QueueReader,
) -> None:
    user_id = uuid4()
    dataset = _created(user_id)["dataset"]
    key = f"users/{user_id}/datasets/{dataset['id']}/source.jsonl"
    content = _jsonl(*[PAIR] * 40)
    _upload(key, content)
    _validate(validator_db, key)
    _job_on(
        user_id,
        dataset["id"],
        base_model="mistral-nemo-12b",
        gpu_config={"type": "A100-40GB", "count": 1},
        hyperparameters={"batch_size": 4, "epochs": 1, "learning_rate": 0.0001, "rank": 8},
    )
    (queued,) = sqs_queue.receive_all()

    dispatcher_app.lambda_handler(
        {"Records": [load_event("job_dispatcher")["Records"][0] | {"body": queued["Body"]}]},
        FakeLambdaContext(),
    )

    (message,) = worker_tasks_queue.receive_all()
    assigned = json.loads(message["Body"])["dataset"]
    assert (assigned["total_training_pairs"], assigned["total_tokens"]) == (38, 76)
    assert assigned["file"] == {
        "bucket": BUCKET,
        "key": key,
        "sha256": hashlib.sha256(content).hexdigest(),
        "size_bytes": len(content),
        "held_out": 2,
    }


# ---- deleting ---------------------------------------------------------------------------------------


def _delete(user_id: UUID, dataset_id: str) -> Any:
    return invoke(
        delete_dataset_app, build_event("delete_dataset", sub=user_id, path=f"/datasets/{dataset_id}")
    )


def _ready_dataset(user_id: UUID, validator_db: Database) -> tuple[str, str]:
    dataset = _created(user_id)["dataset"]
    key = f"users/{user_id}/datasets/{dataset['id']}/source.jsonl"
    _upload(key, _jsonl(*[PAIR] * 40))
    _validate(validator_db, key)
    return dataset["id"], key


def _object_exists(key: str) -> bool:
    listed = boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket=BUCKET, Prefix=key)
    return listed.get("KeyCount", 0) == 1


def _job_on(user_id: UUID, dataset_id: str, **configured: Any) -> str:
    """A job created through the API at the price its estimate gives (Fast on one A100-80GB unless told)."""
    configuration = {
        "dataset_id": dataset_id,
        "gpu_config": {"type": "A100-80GB", "count": 1},
        "hyperparameters": {"batch_size": 8, "epochs": 1, "learning_rate": 0.0001, "rank": 8},
    } | configured
    estimate = invoke(estimate_app, build_event("estimate", sub=user_id, body=configuration)).body["data"]
    created = invoke(
        create_job_app,
        build_event(
            "create_job",
            sub=user_id,
            body=configuration | {"preset_id": "custom", "estimated_cost": estimate["estimated_cost"]},
        ),
    )
    assert created.status == 201, created.raw_body
    job_id: str = created.body["data"]["id"]
    return job_id


def test_deleting_a_dataset_removes_its_row_and_its_file(
    db: psycopg.Connection[DictRow], validator_db: Database
) -> None:
    user_id = uuid4()
    dataset_id, key = _ready_dataset(user_id, validator_db)
    assert _object_exists(key)

    response = _delete(user_id, dataset_id)

    assert (response.status, response.raw_body) == (204, "")
    assert _get(user_id, dataset_id).status == 404
    assert db.execute("select count(*) as n from lora_datasets").fetchone() == {"n": 0}
    assert not _object_exists(key)


def test_a_dataset_a_job_still_uses_cannot_be_deleted_and_once_it_ended_the_job_keeps_its_name(
    db: psycopg.Connection[DictRow], validator_db: Database, sqs_queue: QueueReader
) -> None:
    user_id = uuid4()
    dataset_id, key = _ready_dataset(user_id, validator_db)
    job_id = _job_on(user_id, dataset_id)

    refused = _delete(user_id, dataset_id)

    assert refused.status == 409, refused.raw_body
    assert refused.body["error"] == "Dataset in use"
    assert refused.body["details"]["job_ids"] == [job_id]
    assert _object_exists(key)

    db.execute("update lora_training_jobs set status = 'completed' where id = %s", (job_id,))
    assert _delete(user_id, dataset_id).status == 204

    job = invoke(get_job_app, build_event("get_job", sub=user_id, path=f"/jobs/{job_id}")).body["data"]
    assert job["dataset_id"] is None
    assert job["dataset"] == {"name": "Support chats", "format": "jsonl", "total_training_pairs": 38}
    listed = invoke(list_jobs_app, build_event("list_jobs", sub=user_id, query={})).body["data"]["jobs"]
    assert [j["dataset"]["name"] for j in listed] == ["Support chats"]


@pytest.mark.parametrize("dataset_id", ["other-users", "not-a-uuid", str(uuid4())])
def test_only_the_owner_deletes_a_dataset_anyone_else_finds_none(
    db: psycopg.Connection[DictRow], validator_db: Database, dataset_id: str
) -> None:
    owner = uuid4()
    mine, key = _ready_dataset(owner, validator_db)

    response = _delete(uuid4(), mine if dataset_id == "other-users" else dataset_id)

    assert response.status == 404, response.raw_body
    assert db.execute("select count(*) as n from lora_datasets").fetchone() == {"n": 1}
    assert _object_exists(key)


def test_an_upload_whose_file_is_gone_before_validation_fails_saying_so(
    db: psycopg.Connection[DictRow], validator_db: Database
) -> None:
    user_id = uuid4()
    dataset = _created(user_id)["dataset"]
    key = f"users/{user_id}/datasets/{dataset['id']}/source.jsonl"  # never uploaded (or deleted since)

    assert _validate(validator_db, key) is validator.Outcome.VALIDATED

    shown = _get(user_id, dataset["id"]).body["data"]
    assert (shown["status"], shown["error_count"]) == ("failed", 1)
    assert shown["errors"] == [
        {
            "line": 0,
            "code": "file_missing",
            "message": "The uploaded file is no longer there: upload it again",
        }
    ]

"""schemas/openapi.json: generated from the models, valid OpenAPI 3.1, and true to what the API answers."""

import json
from typing import Any
from uuid import uuid4

import jsonschema
import psycopg
import pytest
from openapi_spec_validator import validate as validate_openapi
from psycopg.rows import DictRow

from functions.account_usage import app as account_usage_app
from functions.cancel_job import app as cancel_job_app
from functions.create_job import app as create_job_app
from functions.create_webhook import app as create_webhook_app
from functions.delete_webhook import app as delete_webhook_app
from functions.estimate import app as estimate_app
from functions.get_account_limits import app as get_account_limits_app
from functions.get_dataset import app as get_dataset_app
from functions.get_job import app as get_job_app
from functions.job_checkpoints import app as job_checkpoints_app
from functions.job_download import app as job_download_app
from functions.job_events import app as job_events_app
from functions.job_metrics import app as job_metrics_app
from functions.list_jobs import app as list_jobs_app
from functions.list_webhook_deliveries import app as list_webhook_deliveries_app
from functions.list_webhooks import app as list_webhooks_app
from functions.put_account_limits import app as put_account_limits_app
from functions.rotate_webhook_secret import app as rotate_webhook_secret_app
from tests.api_client import ApiResponse, build_event, invoke, load_event
from tests.factories import create_body, estimate_body, insert_dataset, insert_job
from tests.paths import REPO_ROOT
from tests.template_resources import HTTP_FUNCTIONS
from tools.openapi_document import build

ROOT = REPO_ROOT
DOCUMENT: dict[str, Any] = json.loads((ROOT / "schemas" / "openapi.json").read_text())


def test_committed_document_is_generated_from_the_models() -> None:
    assert build() == DOCUMENT, "run `make schemas` and commit the result"


def test_document_is_valid_openapi_3_1() -> None:
    validate_openapi(DOCUMENT)
    assert DOCUMENT["openapi"] == "3.1.0"
    assert DOCUMENT["security"] == [{"bearerAuth": []}]


def test_document_has_exactly_the_templates_routes() -> None:
    documented = {(method.upper(), path) for path, item in DOCUMENT["paths"].items() for method in item}
    routed = {
        (event["Properties"]["Method"], event["Properties"]["Path"])
        for function in HTTP_FUNCTIONS.values()
        for event in function["Properties"]["Events"].values()
    }
    assert documented == routed


def test_a_generated_client_can_page_by_cursor_without_sending_page() -> None:
    listing = DOCUMENT["paths"]["/jobs"]["get"]
    parameters = {parameter["name"]: parameter for parameter in listing["parameters"]}
    assert set(parameters) == {"page", "limit", "status", "cursor"}
    # A default on page (or limit) would be sent by generated clients beside a cursor: a 400.
    assert "default" not in parameters["page"]["schema"]
    assert "default" not in parameters["limit"]["schema"]
    assert parameters["cursor"]["schema"] == {"type": "string", "minLength": 1, "maxLength": 512}
    assert listing["responses"]["200"]["links"]["nextPage"]["parameters"] == {
        "cursor": "$response.body#/data/next_cursor"
    }


def test_jobs_document_their_configuration_retry_after_links_and_servers() -> None:
    schemas = DOCUMENT["components"]["schemas"]
    for name in ("TrainingJob", "TrainingJobWithDataset"):
        assert schemas[name]["properties"]["gpu_config"] == {"$ref": "#/components/schemas/GpuConfig"}
        assert schemas[name]["properties"]["hyperparameters"] == {
            "$ref": "#/components/schemas/JobHyperparameters"
        }
    create = DOCUMENT["paths"]["/jobs"]["post"]["responses"]
    assert "Retry-After" in create["409"]["headers"]
    assert "Retry-After" in create["503"]["headers"]
    operations = {op["operationId"] for item in DOCUMENT["paths"].values() for op in item.values()}
    assert {link["operationId"] for link in create["201"]["links"].values()} <= operations
    assert [server["url"] for server in DOCUMENT["servers"]] == [
        "https://{apiId}.execute-api.{region}.amazonaws.com",
        "http://127.0.0.1:3000",
    ]


def _validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    # Refs point into the document's components: validate with them alongside.
    return jsonschema.Draft202012Validator(schema | {"components": DOCUMENT["components"]})


def assert_documented(method: str, path: str, response: ApiResponse) -> None:
    operation = DOCUMENT["paths"][path][method]
    documented = operation["responses"].get(str(response.status))
    assert documented is not None, f"{method} {path} answered {response.status}, which is not documented"
    if "content" not in documented:  # 204
        assert response.raw_body == ""
        return
    _validator(documented["content"]["application/json"]["schema"]).validate(response.body)


@pytest.mark.parametrize("name", ["estimate", "create_job", "create_webhook", "put_account_limits"])
def test_events_bodies_conform_to_the_request_schemas(name: str) -> None:
    path, method = {
        "estimate": ("/jobs/estimate", "post"),
        "create_job": ("/jobs", "post"),
        "create_webhook": ("/webhooks", "post"),
        "put_account_limits": ("/account/limits", "put"),
    }[name]
    schema = DOCUMENT["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    _validator(schema).validate(json.loads(load_event(name)["body"]))


def test_documented_examples_are_valid_requests() -> None:
    for path in ("/jobs/estimate", "/jobs", "/webhooks"):
        content = DOCUMENT["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        _validator(content["schema"]).validate(content["example"])


def test_every_kind_of_response_conforms_to_the_document(db: psycopg.Connection[DictRow]) -> None:
    user_id = uuid4()
    dataset_id = insert_dataset(db, user_id=user_id)
    post, get = "post", "get"

    def call(module: Any, name: str, **kwargs: Any) -> ApiResponse:
        return invoke(module, build_event(name, sub=kwargs.pop("sub", user_id), **kwargs))

    assert_documented(post, "/jobs/estimate", call(estimate_app, "estimate", body=estimate_body(dataset_id)))
    assert_documented(post, "/jobs/estimate", call(estimate_app, "estimate", body=estimate_body(uuid4())))
    assert_documented(post, "/jobs/estimate", call(estimate_app, "estimate", body={"dataset_id": 1}))
    assert_documented(post, "/jobs/estimate", call(estimate_app, "estimate", raw_body="x" * 70_000))
    assert_documented(post, "/jobs/estimate", call(estimate_app, "estimate", sub=None))

    created = call(
        create_job_app, "create_job", body=create_body(dataset_id), headers={"idempotency-key": "k"}
    )
    assert_documented(post, "/jobs", created)
    assert_documented(
        post, "/jobs", call(create_job_app, "create_job", body=create_body(dataset_id, estimated_cost=1))
    )
    changed = create_body(dataset_id, preset_id="fast")
    assert_documented(
        post, "/jobs", call(create_job_app, "create_job", body=changed, headers={"idempotency-key": "k"})
    )

    dataset = "/datasets/{dataset_id}"
    own = call(get_dataset_app, "get_dataset", path=f"/datasets/{dataset_id}")
    assert own.status == 200
    assert_documented(get, dataset, own)
    assert_documented(get, dataset, call(get_dataset_app, "get_dataset", path="/datasets/nope"))

    insert_job(db, user_id=user_id, dataset_id=dataset_id, status="completed")
    assert_documented(get, "/jobs", call(list_jobs_app, "list_jobs", query={"limit": "1"}))
    assert_documented(get, "/jobs", call(list_jobs_app, "list_jobs", query={"page": "0"}))
    job_path = f"/jobs/{created.body['data']['id']}"
    assert_documented(get, "/jobs/{job_id}", call(get_job_app, "get_job", path=job_path))
    assert_documented(get, "/jobs/{job_id}", call(get_job_app, "get_job", path="/jobs/nope"))
    feed = "/jobs/{job_id}/events"
    assert_documented(get, feed, call(job_events_app, "job_events", path=f"{job_path}/events"))
    assert_documented(get, feed, call(job_events_app, "job_events", path="/jobs/nope/events"))
    bad_cursor = call(job_events_app, "job_events", path=f"{job_path}/events", query={"cursor": "x"})
    assert bad_cursor.status == 400
    assert_documented(get, feed, bad_cursor)
    chart = "/jobs/{job_id}/metrics"
    assert_documented(get, chart, call(job_metrics_app, "job_metrics", path=f"{job_path}/metrics"))
    assert_documented(get, chart, call(job_metrics_app, "job_metrics", path="/jobs/nope/metrics"))
    too_many = call(job_metrics_app, "job_metrics", path=f"{job_path}/metrics", query={"max_points": "501"})
    assert too_many.status == 400
    assert_documented(get, chart, too_many)
    listed = "/jobs/{job_id}/checkpoints"
    assert_documented(
        get, listed, call(job_checkpoints_app, "job_checkpoints", path=f"{job_path}/checkpoints")
    )
    assert_documented(
        get, listed, call(job_checkpoints_app, "job_checkpoints", path="/jobs/nope/checkpoints")
    )
    download = "/jobs/{job_id}/download"
    not_yet = call(job_download_app, "job_download", path=f"{job_path}/download")
    assert not_yet.status == 404
    assert_documented(get, download, not_yet)
    confused = call(
        job_download_app,
        "job_download",
        path=f"{job_path}/download",
        query={"artifact": "adapter", "step": "1"},
    )
    assert confused.status == 400
    assert_documented(get, download, confused)
    done = insert_job(db, user_id=user_id, dataset_id=dataset_id, status="completed")
    db.execute(
        "update lora_training_jobs set artifact_key = %s where id = %s",
        (f"users/{user_id}/jobs/{done}/adapter/a.safetensors", done),
    )
    signed = call(job_download_app, "job_download", path=f"/jobs/{done}/download")
    assert signed.status == 200
    assert_documented(get, download, signed)
    cancel = "/jobs/{job_id}/cancel"
    assert_documented(post, cancel, call(cancel_job_app, "cancel_job", path=f"{job_path}/cancel"))
    assert_documented(post, cancel, call(cancel_job_app, "cancel_job", path="/jobs/nope/cancel"))
    finished = insert_job(db, user_id=user_id, dataset_id=dataset_id, status="failed")
    assert_documented(post, cancel, call(cancel_job_app, "cancel_job", path=f"/jobs/{finished}/cancel"))


def test_every_account_response_conforms_to_the_document(db: psycopg.Connection[DictRow]) -> None:
    user_id = uuid4()
    dataset_id = insert_dataset(db, user_id=user_id)

    def call(module: Any, name: str, **kwargs: Any) -> ApiResponse:
        return invoke(module, build_event(name, sub=user_id, **kwargs))

    limits = "/account/limits"
    assert_documented("get", limits, call(get_account_limits_app, "get_account_limits"))
    for body in ({"monthly_spend_limit": 6}, {"monthly_spend_limit": 1.001}, {"monthly_spend_limit": None}):
        assert_documented("put", limits, call(put_account_limits_app, "put_account_limits", body=body))
    call(put_account_limits_app, "put_account_limits", body={"monthly_spend_limit": 6})
    assert_documented("get", limits, call(get_account_limits_app, "get_account_limits"))
    estimated = call(estimate_app, "estimate", body=estimate_body(dataset_id))
    assert estimated.body["data"]["within_limit"] is True
    assert_documented("post", "/jobs/estimate", estimated)
    assert call(create_job_app, "create_job", body=create_body(dataset_id)).status == 201
    refused = call(create_job_app, "create_job", body=create_body(dataset_id))
    assert refused.status == 409
    assert_documented("post", "/jobs", refused)
    usage = "/account/usage"
    for query in (
        {},
        {"month": "2026-01", "limit": "1"},
        {"month": "13"},
        {"month": "0000-01"},
        {"cursor": "x"},
    ):
        assert_documented("get", usage, call(account_usage_app, "account_usage", query=query))


def test_every_webhook_endpoint_response_conforms_to_the_document(db: psycopg.Connection[DictRow]) -> None:
    user_id = uuid4()
    post, get = "post", "get"

    def call(module: Any, name: str, **kwargs: Any) -> ApiResponse:
        return invoke(module, build_event(name, sub=kwargs.pop("sub", user_id), **kwargs))

    body = {"url": "https://hooks.example.com/in", "events": ["job.completed"]}
    created = call(create_webhook_app, "create_webhook", body=body)
    assert created.status == 201
    assert_documented(post, "/webhooks", created)
    refused = call(create_webhook_app, "create_webhook", body=body | {"url": "https://10.0.0.1/"})
    assert refused.status == 400
    assert_documented(post, "/webhooks", refused)
    assert_documented(post, "/webhooks", call(create_webhook_app, "create_webhook", body={"url": 1}))
    assert_documented(get, "/webhooks", call(list_webhooks_app, "list_webhooks"))
    hook = f"/webhooks/{created.body['data']['id']}"
    rotate = "/webhooks/{webhook_id}/rotate-secret"
    path = f"{hook}/rotate-secret"
    assert_documented(post, rotate, call(rotate_webhook_secret_app, "rotate_webhook_secret", path=path))
    missing = "/webhooks/nope/rotate-secret"
    assert_documented(post, rotate, call(rotate_webhook_secret_app, "rotate_webhook_secret", path=missing))
    deliveries = "/webhooks/{webhook_id}/deliveries"
    page = call(list_webhook_deliveries_app, "list_webhook_deliveries", path=f"{hook}/deliveries", query={})
    assert page.status == 200
    assert_documented(get, deliveries, page)
    bad = call(
        list_webhook_deliveries_app,
        "list_webhook_deliveries",
        path=f"{hook}/deliveries",
        query={"limit": "0"},
    )
    assert bad.status == 400
    assert_documented(get, deliveries, bad)
    deleted = call(delete_webhook_app, "delete_webhook", path=hook)
    assert deleted.status == 204
    assert_documented("delete", "/webhooks/{webhook_id}", deleted)
    assert_documented(
        "delete", "/webhooks/{webhook_id}", call(delete_webhook_app, "delete_webhook", path=hook)
    )


def test_a_webhook_payload_conforms_to_the_documented_webhook(db: psycopg.Connection[DictRow]) -> None:
    from datetime import UTC, datetime

    from pipeline.db.database import Database, DatabaseSettings
    from pipeline.jobs.states import JobStatus
    from pipeline.webhooks.enqueue import enqueue_status_change

    user_id = uuid4()
    job_id = insert_job(db, user_id=user_id, dataset_id=insert_dataset(db, user_id=user_id), status="failed")
    db.execute("update lora_training_jobs set error_code = 'out_of_memory', error_message = 'OOM'")
    call = build_event(
        "create_webhook", sub=user_id, body={"url": "https://h.example.com/", "events": ["job.failed"]}
    )
    assert invoke(create_webhook_app, call).status == 201
    database = Database(DatabaseSettings.from_env())
    with database.tenant_transaction(user_id) as conn:
        written = enqueue_status_change(
            conn, job_id=job_id, user_id=user_id, previous=JobStatus.RUNNING, status=JobStatus.FAILED,
            at=datetime.now(UTC),
        )  # fmt: skip
    database.close()
    assert written == 1
    row = db.execute("select payload from webhook_deliveries").fetchone()
    assert row is not None
    schema = DOCUMENT["webhooks"]["jobEvent"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    payload = json.loads(row["payload"])
    _validator(schema).validate(payload)
    assert (payload["type"], payload["data"]["error_code"]) == ("job.failed", "out_of_memory")


def test_deeply_nested_json_is_refused_before_validation(db: psycopg.Connection[DictRow]) -> None:
    nested: Any = "leaf"
    for _ in range(17):
        nested = {"n": nested}

    response = invoke(
        estimate_app, build_event("estimate", body={"dataset_id": str(uuid4()), "extra": nested})
    )

    assert response.status == 400
    assert response.body == {"error": "Invalid JSON body", "details": "JSON nested deeper than 16 levels"}


@pytest.mark.parametrize("where", ["value", "key", "in-a-list"])
def test_overlong_strings_are_refused(db: psycopg.Connection[DictRow], where: str) -> None:
    long = "x" * 1025
    extras: dict[str, dict[str, Any]] = {
        "value": {"note": long},
        "key": {long: 1},
        "in-a-list": {"notes": ["ok", long]},
    }
    extra = extras[where]

    response = invoke(estimate_app, build_event("estimate", body={"dataset_id": str(uuid4()), **extra}))

    assert response.status == 400
    assert response.body == {
        "error": "Invalid JSON body",
        "details": "JSON strings must be at most 1024 characters",
    }


def test_page_beyond_the_maximum_is_refused(db: psycopg.Connection[DictRow]) -> None:
    response = invoke(list_jobs_app, build_event("list_jobs", query={"page": "1000001"}))

    assert response.status == 400
    assert list(response.body["details"]) == ["page"]

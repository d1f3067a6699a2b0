"""Every validation rule: 400 with {"error": "Validation error", "details": {"<dotted.path>": [...]}}.

Numbers must be JSON numbers (no strings, booleans, NaN or Infinity); integer fields take 4 or 4.0 but
not 4.5; ranges as the reference; the GPU type is one of the catalog's on every endpoint.
"""

import base64
import json
from collections.abc import Callable
from types import ModuleType
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg.rows import DictRow

from functions.create_job import app as create_job_app
from functions.estimate import app as estimate_app
from functions.list_jobs import app as list_jobs_app
from tests.api_client import build_event, invoke
from tests.factories import create_body, estimate_body, insert_dataset

Mutation = Callable[[dict[str, Any]], None]


def set_path(path: str, value: Any) -> Mutation:
    def mutate(body: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        target = body
        for key in parents:
            target = target[key]
        target[leaf] = value

    return mutate


def delete_path(path: str) -> Mutation:
    def mutate(body: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        target = body
        for key in parents:
            target = target[key]
        del target[leaf]

    return mutate


# (field path, mutation, a fragment of the message) - shared by estimate and create.
COMMON_VIOLATIONS: list[tuple[str, Mutation, str]] = [
    ("dataset_id", delete_path("dataset_id"), "Field required"),
    ("dataset_id", set_path("dataset_id", "not-a-uuid"), "valid UUID"),
    ("dataset_id", set_path("dataset_id", 12345), "UUID"),
    ("gpu_config", set_path("gpu_config", "A100-80GB"), "valid dictionary"),
    ("gpu_config.type", set_path("gpu_config.type", "RTX-4090"), "must be one of: A100-80GB"),
    ("gpu_config.type", delete_path("gpu_config.type"), "Field required"),
    ("gpu_config.count", set_path("gpu_config.count", 0), "greater than or equal to 1"),
    ("gpu_config.count", set_path("gpu_config.count", 9), "less than or equal to 8"),
    ("gpu_config.count", set_path("gpu_config.count", 2.5), "whole number"),
    ("gpu_config.count", set_path("gpu_config.count", "2"), "JSON number"),
    ("gpu_config.count", set_path("gpu_config.count", True), "JSON number"),
    ("gpu_config.count", set_path("gpu_config.count", None), "JSON number"),
    ("hyperparameters", set_path("hyperparameters", None), "valid dictionary"),
    ("hyperparameters.batch_size", set_path("hyperparameters.batch_size", 0), "greater than or equal to 1"),
    ("hyperparameters.batch_size", set_path("hyperparameters.batch_size", 65), "less than or equal to 64"),
    ("hyperparameters.batch_size", set_path("hyperparameters.batch_size", 4.5), "whole number, got 4.5"),
    ("hyperparameters.batch_size", set_path("hyperparameters.batch_size", "4"), "JSON number"),
    ("hyperparameters.epochs", set_path("hyperparameters.epochs", 0), "greater than or equal to 1"),
    ("hyperparameters.epochs", set_path("hyperparameters.epochs", 21), "less than or equal to 20"),
    ("hyperparameters.epochs", delete_path("hyperparameters.epochs"), "Field required"),
    ("hyperparameters.learning_rate", set_path("hyperparameters.learning_rate", 0.000009), "0.00001"),
    ("hyperparameters.learning_rate", set_path("hyperparameters.learning_rate", 0.0011), "0.001"),
    ("hyperparameters.learning_rate", set_path("hyperparameters.learning_rate", "0.0001"), "valid number"),
    ("hyperparameters.learning_rate", set_path("hyperparameters.learning_rate", False), "valid number"),
    ("hyperparameters.rank", set_path("hyperparameters.rank", 3), "greater than or equal to 4"),
    ("hyperparameters.rank", set_path("hyperparameters.rank", 129), "less than or equal to 128"),
]

CREATE_ONLY_VIOLATIONS: list[tuple[str, Mutation, str]] = [
    ("preset_id", set_path("preset_id", "turbo"), "'fast', 'balanced', 'quality' or 'custom'"),
    ("preset_id", delete_path("preset_id"), "Field required"),
    ("hyperparameters.alpha", set_path("hyperparameters.alpha", 0), "greater than 0"),
    ("hyperparameters.alpha", set_path("hyperparameters.alpha", "32"), "valid number"),
    ("hyperparameters.dropout", set_path("hyperparameters.dropout", 1), "less than 1"),
    ("hyperparameters.dropout", set_path("hyperparameters.dropout", -0.1), "greater than or equal to 0"),
    ("estimated_cost", delete_path("estimated_cost"), "Field required"),
    ("estimated_cost", set_path("estimated_cost", "5.94"), "valid number"),
    ("estimated_cost", set_path("estimated_cost", -1), "greater than or equal to 0"),
]

ENDPOINTS: dict[str, tuple[ModuleType, Callable[[UUID], dict[str, Any]]]] = {
    "estimate": (estimate_app, estimate_body),
    "create_job": (create_job_app, create_body),
}


def _post(name: str, user_id: UUID, body: dict[str, Any]) -> Any:
    module, _ = ENDPOINTS[name]
    return invoke(module, build_event(name, sub=user_id, body=body))


@pytest.fixture
def dataset(db: psycopg.Connection[DictRow]) -> tuple[UUID, UUID]:
    user_id = uuid4()
    return user_id, insert_dataset(db, user_id=user_id)


CASES = [(name, *violation) for name in ENDPOINTS for violation in COMMON_VIOLATIONS] + [
    ("create_job", *violation) for violation in CREATE_ONLY_VIOLATIONS
]


@pytest.mark.parametrize(
    ("endpoint", "field", "mutate", "message"),
    CASES,
    ids=[f"{c[0]}-{c[1]}-{c[3]}" for c in CASES],
)
def test_invalid_field_is_rejected_with_its_dotted_path(
    db: psycopg.Connection[DictRow],
    dataset: tuple[UUID, UUID],
    endpoint: str,
    field: str,
    mutate: Mutation,
    message: str,
) -> None:
    user_id, dataset_id = dataset
    body = ENDPOINTS[endpoint][1](dataset_id)
    mutate(body)

    response = _post(endpoint, user_id, body)

    assert response.status == 400, response.raw_body
    assert response.body["error"] == "Validation error"
    assert list(response.body["details"]) == [field]
    assert any(message in text for text in response.body["details"][field]), response.body
    assert db.execute("select count(*) as n from lora_training_jobs").fetchone() == {"n": 0}


def test_every_invalid_field_is_reported_at_once(dataset: tuple[UUID, UUID]) -> None:
    user_id, dataset_id = dataset
    body = estimate_body(dataset_id)
    body["gpu_config"]["count"] = 99
    body["hyperparameters"]["rank"] = 1

    response = _post("estimate", user_id, body)

    assert response.status == 400
    assert set(response.body["details"]) == {"gpu_config.count", "hyperparameters.rank"}


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("gpu_config.count", 2.0),
        ("hyperparameters.batch_size", 4.0),
        ("hyperparameters.learning_rate", 0.001),
    ],
)
def test_integral_floats_and_range_edges_are_accepted(
    dataset: tuple[UUID, UUID], endpoint: str, field: str, value: float
) -> None:
    user_id, dataset_id = dataset
    body = ENDPOINTS[endpoint][1](dataset_id)
    set_path(field, value)(body)
    if endpoint == "create_job":
        body["estimated_cost"] = _post("estimate", user_id, body).body["data"]["estimated_cost"]

    response = _post(endpoint, user_id, body)

    assert response.status in (200, 201), response.raw_body


def test_unknown_keys_are_ignored_and_not_stored(
    db: psycopg.Connection[DictRow], dataset: tuple[UUID, UUID]
) -> None:
    user_id, dataset_id = dataset
    body = create_body(dataset_id, user_id=str(uuid4()), surprise={"nested": True})
    body["hyperparameters"] |= {"name": "Balanced", "description": "Recommended", "icon": "target"}
    body["gpu_config"]["label"] = "NVIDIA A100 80GB"

    response = _post("create_job", user_id, body)

    assert response.status == 201, response.raw_body
    row = db.execute("select user_id, gpu_config, hyperparameters from lora_training_jobs").fetchone()
    assert row == {
        "user_id": user_id,
        "gpu_config": {"type": "A100-80GB", "count": 2},
        "hyperparameters": {
            "learning_rate": 0.00005,
            "batch_size": 4,
            "epochs": 3,
            "rank": 16,
            "alpha": 32.0,
            "dropout": 0.1,
        },
    }


def _post_raw(user_id: UUID, raw: str, **event_overrides: Any) -> Any:
    event = build_event("estimate", sub=user_id, raw_body=raw)
    event.update(event_overrides)
    return invoke(estimate_app, event)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_standard_json_numbers_are_rejected(dataset: tuple[UUID, UUID], constant: str) -> None:
    user_id, dataset_id = dataset
    raw = json.dumps(estimate_body(dataset_id)).replace('"count": 2', f'"count": {constant}')
    assert constant in raw

    response = _post_raw(user_id, raw)

    assert response.status == 400
    assert response.body == {
        "error": "Invalid JSON body",
        "details": f"{constant} is not a JSON number; send a finite number",
    }


@pytest.mark.parametrize(
    ("raw", "error", "details"),
    [
        ('{"dataset_id": ', "Invalid JSON body", "Expecting value at line 1 column 16"),
        ("", "Invalid JSON body", "The request body is empty; send a JSON object"),
        ("[1, 2]", "Request body must be a JSON object", None),
        ('"text"', "Request body must be a JSON object", None),
        ("[" * 5000 + "]" * 5000, "Invalid JSON body", "The body is not UTF-8 JSON or is nested too deeply"),
    ],
    ids=["truncated", "empty", "array", "string", "deeply-nested"],
)
def test_malformed_bodies_get_a_clear_400(
    dataset: tuple[UUID, UUID], raw: str, error: str, details: str | None
) -> None:
    response = _post_raw(dataset[0], raw)

    assert response.status == 400
    expected: dict[str, Any] = {"error": error}
    if details is not None:
        expected["details"] = details
    assert response.body == expected


def test_body_over_64_kib_is_rejected_with_413(dataset: tuple[UUID, UUID]) -> None:
    user_id, dataset_id = dataset
    body = estimate_body(dataset_id, padding="x" * (64 * 1024))

    response = _post_raw(user_id, json.dumps(body))

    assert response.status == 413
    assert response.body == {
        "error": "Payload too large",
        "details": "The request body must be at most 65536 bytes",
    }


def test_body_of_exactly_64_kib_is_accepted(dataset: tuple[UUID, UUID]) -> None:
    user_id, dataset_id = dataset
    # Padding made of short strings (each within the string-length limit) up to exactly 64 KiB.
    chunks = ["x" * 1000] * 66  # a little over 64 KiB; the last chunk is then trimmed to fit
    raw = json.dumps(estimate_body(dataset_id, padding=chunks))
    chunks[-1] = "x" * (1000 - (len(raw) - 64 * 1024))
    raw = json.dumps(estimate_body(dataset_id, padding=chunks))
    assert len(raw) == 64 * 1024

    assert _post_raw(user_id, raw).status == 200


def test_base64_encoded_body_is_decoded(dataset: tuple[UUID, UUID]) -> None:
    user_id, dataset_id = dataset
    encoded = base64.b64encode(json.dumps(estimate_body(dataset_id)).encode()).decode()

    response = _post_raw(user_id, encoded, isBase64Encoded=True)

    assert response.status == 200, response.raw_body


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"page": "0"}, "page"),
        ({"page": "-1"}, "page"),
        ({"page": "abc"}, "page"),
        ({"page": "1.5"}, "page"),
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"status": "bogus"}, "status"),
        ({"status": ""}, "status"),
        ({"status": "QUEUED"}, "status"),
    ],
)
def test_invalid_list_query_is_rejected(
    db: psycopg.Connection[DictRow], query: dict[str, str], field: str
) -> None:
    response = invoke(list_jobs_app, build_event("list_jobs", sub=uuid4(), query=query))

    assert response.status == 400, response.raw_body
    assert response.body["error"] == "Validation error"
    assert list(response.body["details"]) == [field]


@pytest.mark.parametrize(
    "number",
    ["9" * 4301, "9" * 41, "1." + "5" * 60, "1e" + "9" * 50],
    ids=["int-past-pythons-limit", "long-int", "long-fraction", "long-exponent"],
)
@pytest.mark.parametrize("where", ["field", "ignored-key"])
def test_numbers_too_long_to_be_sane_are_a_400_before_conversion(
    dataset: tuple[UUID, UUID], caplog: pytest.LogCaptureFixture, number: str, where: str
) -> None:
    user_id, dataset_id = dataset
    body = json.dumps(estimate_body(dataset_id))
    raw = (
        body.replace('"count": 2', f'"count": {number}')
        if where == "field"
        else body[:-1] + f', "ignored": {number}}}'
    )
    assert number in raw

    response = _post_raw(user_id, raw)

    assert response.status == 400
    assert response.body == {
        "error": "Invalid JSON body",
        "details": "JSON numbers must be at most 40 characters long",
    }
    assert [r for r in caplog.records if r.exc_info] == []


def test_a_content_length_too_long_to_be_a_number_is_a_413_not_a_500(dataset: tuple[UUID, UUID]) -> None:
    user_id, dataset_id = dataset
    response = _post_raw(
        user_id,
        json.dumps(estimate_body(dataset_id)),
        headers={"content-type": "application/json", "content-length": "9" * 5000},
    )
    assert response.status == 413


@pytest.mark.parametrize("parameter", ["page", "limit"])
def test_query_numbers_too_long_to_be_sane_are_a_400(dataset: tuple[UUID, UUID], parameter: str) -> None:
    response = invoke(list_jobs_app, build_event("list_jobs", sub=dataset[0], query={parameter: "9" * 5000}))

    assert response.status == 400
    assert response.body["error"] == "Validation error"
    assert list(response.body["details"]) == [parameter]

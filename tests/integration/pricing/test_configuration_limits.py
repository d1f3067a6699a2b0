"""Runs too large to be sane are refused, 422 with the limits, on estimate and on create; the catalog
shows the limits. A huge dataset once gave 40 billion steps and an $87.5 trillion estimate, and create
a 500 (integer and numeric overflow in the job row)."""

from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg.rows import DictRow

from functions.catalog import app as catalog_app
from functions.create_job import app as create_job_app
from functions.estimate import app as estimate_app
from pipeline.catalog.gpu_prices import GPU_TYPES, STORAGE_COST
from pipeline.pricing import cost_model
from tests.api_client import build_event, invoke
from tests.factories import create_body, estimate_body, insert_dataset
from tests.services import QueueReader

LIMITS = {"total_steps": 10_000_000, "estimated_cost": 100000.0, "gpu_days": 1000}
HUGE_PAIRS, HUGE_TOKENS = 2_000_000_000, 9_000_000_000_000_000


@pytest.fixture
def user_id() -> UUID:
    return uuid4()


def _call(app: Any, name: str, user_id: UUID, body: dict[str, Any]) -> Any:
    return invoke(app, build_event(name, sub=user_id, body=body))


def test_an_estimate_beyond_the_limits_is_422_with_the_limits_and_what_exceeded_them(
    db: psycopg.Connection[DictRow], user_id: UUID
) -> None:
    dataset_id = insert_dataset(
        db, user_id=user_id, total_training_pairs=HUGE_PAIRS, total_tokens=HUGE_TOKENS
    )
    body = estimate_body(dataset_id) | {
        "hyperparameters": {"batch_size": 1, "epochs": 20, "learning_rate": 0.0001, "rank": 8}
    }

    response = _call(estimate_app, "estimate", user_id, body)

    assert response.status == 422, response.body
    assert response.body["error"] == "Configuration too large"
    assert response.body["details"]["limits"] == LIMITS
    assert response.body["details"]["exceeded"]["total_steps"] == 40_000_000_000
    assert set(response.body["details"]["exceeded"]) == {"total_steps", "estimated_cost", "gpu_days"}


def test_a_create_beyond_the_limits_is_422_and_writes_nothing(
    db: psycopg.Connection[DictRow], user_id: UUID, sqs_queue: QueueReader
) -> None:
    dataset_id = insert_dataset(
        db, user_id=user_id, total_training_pairs=HUGE_PAIRS, total_tokens=HUGE_TOKENS
    )
    body = create_body(dataset_id, estimated_cost=87_500_000_000_004.53)

    response = _call(create_job_app, "create_job", user_id, body)

    assert response.status == 422, response.body
    assert response.body["details"]["limits"] == LIMITS
    assert db.execute("select count(*) as n from lora_training_jobs").fetchone() == {"n": 0}
    assert sqs_queue.receive_all() == []


def test_only_the_limit_exceeded_is_named(db: psycopg.Connection[DictRow], user_id: UUID) -> None:
    # 1.5M pairs at batch size 1 for 7 epochs: 10.5M steps, within the other two limits.
    dataset_id = insert_dataset(db, user_id=user_id, total_training_pairs=1_500_000, total_tokens=15_000_000)
    body = estimate_body(dataset_id) | {
        "gpu_config": {"type": "H100", "count": 8},
        "hyperparameters": {"batch_size": 1, "epochs": 7, "learning_rate": 0.0001, "rank": 8},
    }

    response = _call(estimate_app, "estimate", user_id, body)

    assert response.status == 422, response.body
    assert response.body["details"]["exceeded"] == {"total_steps": 10_500_000}


def test_the_largest_reference_configuration_is_within_the_limits() -> None:
    h100 = GPU_TYPES["H100"]
    figures = cost_model.estimate_cost(
        price_per_gpu_hour=h100.price_per_gpu_hour,
        throughput_per_gpu=h100.throughput_tokens_per_sec,
        gpu_count=8,
        batch_size=64,
        epochs=20,
        total_training_pairs=10_000_000,
        total_tokens=4_000_000_000,
        storage_cost=STORAGE_COST,
    )
    assert figures.estimated_cost == Decimal("42489.14")  # the reference's own figure for this case
    assert cost_model.exceeded_limits(figures) == {}


def test_the_catalog_shows_the_limits() -> None:
    response = invoke(catalog_app, build_event("catalog"))
    assert response.body["data"]["limits"] == LIMITS

"""POST /jobs/estimate and POST /jobs with a base model: its throughput sets the duration and price,
its memory decides which GPUs may train it, and the job and its messages name it."""

import json
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg.rows import DictRow

from functions.create_job import app as create_job_app
from functions.estimate import app as estimate_app
from functions.get_job import app as get_job_app
from functions.list_jobs import app as list_jobs_app
from tests.api_client import build_event, invoke
from tests.factories import create_body, insert_dataset
from tests.services import QueueReader

BALANCED = {"batch_size": 4, "epochs": 3, "learning_rate": 0.00005, "rank": 16}
KNOWN = "llama-3.2-3b, mistral-7b-v0.3, mistral-nemo-12b, llama-3.1-70b"


@pytest.fixture
def user_id() -> UUID:
    return uuid4()


@pytest.fixture
def dataset_id(db: psycopg.Connection[DictRow], user_id: UUID) -> UUID:
    return insert_dataset(db, user_id=user_id)  # 5000 pairs, 1,200,000 tokens: 240 per pair


def _estimate(user_id: UUID, body: dict[str, Any]) -> Any:
    return invoke(estimate_app, build_event("estimate", sub=user_id, body=body))


def _create(user_id: UUID, body: dict[str, Any]) -> Any:
    return invoke(create_job_app, build_event("create_job", sub=user_id, body=body))


@pytest.mark.parametrize(
    ("base_model", "gpu_config", "expected"),
    [
        # 3750 steps of 4 x 240 = 960 tokens, + 1800 s of overheads; 2 x A100-80GB at $7.00/h.
        # The default model (1800 tok/s per GPU): 1000 s + 1800 s = 0.7778 h -> $5.44 + $0.50.
        (None, {"type": "A100-80GB", "count": 2}, (5.94, 5.44, 0.78, 3600)),
        ("mistral-7b-v0.3", {"type": "A100-80GB", "count": 2}, (5.94, 5.44, 0.78, 3600)),
        # Llama 3.2 3B (x2.25: 4050): 444.4 s + 1800 s = 0.6235 h -> $4.3642.
        ("llama-3.2-3b", {"type": "A100-80GB", "count": 2}, (4.86, 4.36, 0.62, 8100)),
        # Mistral NeMo 12B (x0.6: 1080): 1666.7 s + 1800 s = 0.9630 h -> $6.7407.
        ("mistral-nemo-12b", {"type": "A100-80GB", "count": 2}, (7.24, 6.74, 0.96, 2160)),
        # Llama 3.1 70B (x0.1: 180): 10,000 s + 1800 s = 3.2778 h -> $22.9444.
        ("llama-3.1-70b", {"type": "A100-80GB", "count": 2}, (23.44, 22.94, 3.28, 360)),
        # ... on 8 x V100 at $16.80/h (120 tok/s each): 3750 s + 1800 s = 1.5417 h -> $25.90.
        ("llama-3.1-70b", {"type": "V100-32GB", "count": 8}, (26.40, 25.90, 1.54, 960)),
    ],
)
def test_the_estimate_prices_the_models_own_throughput(
    user_id: UUID,
    dataset_id: UUID,
    base_model: str | None,
    gpu_config: dict[str, Any],
    expected: tuple[float, float, float, int],
) -> None:
    body = {"dataset_id": str(dataset_id), "gpu_config": gpu_config, "hyperparameters": BALANCED}
    if base_model is not None:
        body["base_model"] = base_model

    response = _estimate(user_id, body)

    assert response.status == 200, response.raw_body
    data = response.body["data"]
    total, compute, hours, throughput = expected
    assert (
        data["estimated_cost"],
        data["cost_breakdown"]["compute"],
        data["estimated_duration_hours"],
        data["training_details"]["estimated_throughput_tokens_per_sec"],
        data["training_details"]["total_steps"],
    ) == (total, compute, hours, throughput, 3750)
    assert data["base_model"] == (base_model or "mistral-7b-v0.3")


@pytest.mark.parametrize("base_model", ["gpt-5", "Mistral-7B-v0.3", "", 7])
def test_an_unknown_model_is_400_naming_base_model_and_the_known_ids(
    user_id: UUID, dataset_id: UUID, base_model: Any
) -> None:
    body = {
        "dataset_id": str(dataset_id),
        "base_model": base_model,
        "gpu_config": {"type": "A100-80GB", "count": 2},
        "hyperparameters": BALANCED,
    }

    response = _estimate(user_id, body)

    assert response.status == 400, response.raw_body
    assert response.body["error"] == "Validation error"
    assert list(response.body["details"]) == ["base_model"]
    if isinstance(base_model, str):
        assert response.body["details"]["base_model"] == [f"Value error, must be one of: {KNOWN}"]


@pytest.mark.parametrize(
    ("base_model", "gpu_config", "hyperparameters", "message"),
    [
        (
            "mistral-nemo-12b",
            {"type": "V100-32GB", "count": 1},
            BALANCED,
            "Mistral NeMo 12B needs 34.1 GiB on each GPU of 1 x V100-32GB at batch size 4 and LoRA rank 16,"
            " more than its 32 GiB; the smallest setup that fits: 1 x A100-40GB",
        ),
        (
            "llama-3.1-70b",
            {"type": "H100", "count": 1},
            BALANCED,
            "Llama 3.1 70B needs 152.5 GiB on each GPU of 1 x H100 at batch size 4 and LoRA rank 16,"
            " more than its 80 GiB; the smallest setup that fits: 2 x A100-80GB",
        ),
        (
            "mistral-7b-v0.3",
            {"type": "V100-32GB", "count": 1},
            BALANCED | {"batch_size": 16},
            "Mistral 7B v0.3 needs 32.4 GiB on each GPU of 1 x V100-32GB at batch size 16 and LoRA rank 16,"
            " more than its 32 GiB; the smallest setup that fits: 1 x A100-40GB",
        ),
    ],
)
def test_a_model_that_does_not_fit_the_gpus_is_400_naming_gpu_config_and_the_smallest_setup_that_fits(
    user_id: UUID,
    dataset_id: UUID,
    base_model: str,
    gpu_config: dict[str, Any],
    hyperparameters: dict[str, Any],
    message: str,
) -> None:
    body = {
        "dataset_id": str(dataset_id),
        "base_model": base_model,
        "gpu_config": gpu_config,
        "hyperparameters": hyperparameters,
    }

    response = _estimate(user_id, body)

    assert response.status == 400, response.raw_body
    assert response.body == {"error": "Validation error", "details": {"gpu_config": [message]}}


def test_a_job_on_a_chosen_model_stores_and_shows_it_and_its_message_names_it(
    db: psycopg.Connection[DictRow], user_id: UUID, dataset_id: UUID, sqs_queue: QueueReader
) -> None:
    response = _create(user_id, create_body(dataset_id, base_model="mistral-nemo-12b", estimated_cost=7.24))

    assert response.status == 201, response.raw_body
    job_id = response.body["data"]["id"]
    assert response.body["data"]["base_model"] == "mistral-nemo-12b"
    stored = db.execute("select base_model, estimated_total_cost from lora_training_jobs").fetchone()
    assert stored == {"base_model": "mistral-nemo-12b", "estimated_total_cost": Decimal("7.24")}
    (message,) = sqs_queue.receive_all()
    assert json.loads(message["Body"])["base_model"] == "mistral-nemo-12b"
    shown = invoke(get_job_app, build_event("get_job", sub=user_id, path=f"/jobs/{job_id}"))
    assert shown.body["data"]["base_model"] == "mistral-nemo-12b"
    listed = invoke(list_jobs_app, build_event("list_jobs", sub=user_id, query={}))
    assert [job["base_model"] for job in listed.body["data"]["jobs"]] == ["mistral-nemo-12b"]


def test_a_job_that_names_no_model_is_the_default_models(
    db: psycopg.Connection[DictRow], user_id: UUID, dataset_id: UUID, sqs_queue: QueueReader
) -> None:
    response = _create(user_id, create_body(dataset_id))

    assert response.status == 201, response.raw_body
    assert response.body["data"]["base_model"] == "mistral-7b-v0.3"
    assert db.execute("select base_model from lora_training_jobs").fetchone() == {
        "base_model": "mistral-7b-v0.3"
    }


def test_a_price_confirmed_for_another_model_is_409_with_the_chosen_models_estimate(
    db: psycopg.Connection[DictRow], user_id: UUID, dataset_id: UUID, sqs_queue: QueueReader
) -> None:
    # 5.94 is the default model's price: the user changed the model after seeing it.
    response = _create(user_id, create_body(dataset_id, base_model="llama-3.2-3b", estimated_cost=5.94))

    assert response.status == 409, response.raw_body
    assert response.body["details"]["current_estimated_cost"] == 4.86
    assert (response.body["data"]["base_model"], response.body["data"]["estimated_cost"]) == (
        "llama-3.2-3b",
        4.86,
    )
    assert db.execute("select count(*) as jobs from lora_training_jobs").fetchone() == {"jobs": 0}
    assert sqs_queue.receive_all() == []


def test_a_create_on_gpus_too_small_for_the_model_is_400_and_writes_nothing(
    db: psycopg.Connection[DictRow], user_id: UUID, dataset_id: UUID, sqs_queue: QueueReader
) -> None:
    body = create_body(
        dataset_id,
        base_model="llama-3.1-70b",
        gpu_config={"type": "A100-40GB", "count": 3},
        estimated_cost=30,
    )

    response = _create(user_id, body)

    assert response.status == 400, response.raw_body
    assert response.body["details"]["gpu_config"] == [
        "Llama 3.1 70B needs 54.9 GiB on each GPU of 3 x A100-40GB at batch size 4 and LoRA rank 16,"
        " more than its 40 GiB; the smallest setup that fits: 2 x A100-80GB"
    ]
    assert db.execute("select count(*) as jobs from lora_training_jobs").fetchone() == {"jobs": 0}
    assert sqs_queue.receive_all() == []

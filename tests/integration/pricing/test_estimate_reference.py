"""POST /jobs/estimate answers the reference implementation's JSON, to the cent and to the text."""

import json
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from psycopg.rows import DictRow

from functions.estimate import app as estimate_app
from pipeline.catalog.gpu_prices import PRICING_VERSION
from tests.api_client import build_event, invoke
from tests.factories import insert_dataset
from tests.paths import REPO_ROOT

CASES: list[dict[str, Any]] = json.loads(
    (REPO_ROOT / "tests" / "reference" / "estimate_cases.json").read_text()
)
NAMED_CASES = [case for case in CASES if not case["name"].startswith("random")]


API_CASES = NAMED_CASES + [case for case in CASES if case["name"].startswith("random")][:40]


@pytest.mark.parametrize("case", API_CASES, ids=[case["name"] for case in API_CASES])
def test_estimate_endpoint_returns_the_reference_json(
    db: psycopg.Connection[DictRow], case: dict[str, Any]
) -> None:
    user_id = uuid4()
    dataset_id = insert_dataset(
        db,
        user_id=user_id,
        name="reference",
        total_training_pairs=case["dataset"]["total_training_pairs"],
        total_tokens=case["dataset"]["total_tokens"],
    )
    body = {
        "dataset_id": str(dataset_id),
        "gpu_config": case["gpu_config"],
        "hyperparameters": case["hyperparameters"],
    }

    response = invoke(estimate_app, build_event("estimate", sub=user_id, body=body))

    assert response.status == 200, response.raw_body
    # Naming no model is the default model, whose figures are the reference's: it says which it is.
    expected = case["expected"] | {"pricing_version": PRICING_VERSION, "base_model": "mistral-7b-v0.3"}
    expected["training_details"] = expected["training_details"] | {"dataset_name": "reference"}
    assert response.body == {"success": True, "data": expected}
    # The same text JSON.stringify writes: 7 not 7.0, 0.5 not 0.50.
    assert json.dumps(response.body["data"]["hourly_rate"]) == json.dumps(case["expected"]["hourly_rate"])
    assert f'"storage":{json.dumps(case["expected"]["cost_breakdown"]["storage"])}' in response.raw_body

"""The messages we send the GPU workers: the committed JSON Schemas are the models', and what the
dispatcher and the cancel endpoint actually send passes them, so a worker team can build from
schemas/ alone."""

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import jsonschema
import pytest

from pipeline.catalog.gpu_prices import PRICING_VERSION
from pipeline.jobs.repository import ClaimedJob
from pipeline.workers.assignment import assignment_for
from pipeline.workers.messages import TrainingJobCancelRequested
from tests.paths import REPO_ROOT
from tools.message_schema import all_schemas, worker_message_schemas

SCHEMAS = REPO_ROOT / "schemas"
JOB_ID = UUID("0d9ff9a4-62a5-4d0b-a1a4-0b3f4f5b8f10")
USER_ID = UUID("5b1f7c1e-2a7d-4f7e-9a57-3c1d2b4e6f80")
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
CLAIMED = ClaimedJob(
    id=JOB_ID,
    user_id=USER_ID,
    preset_id="balanced",
    base_model="mistral-7b-v0.3",
    gpu_config={"type": "A100-80GB", "count": 2},
    hyperparameters={"batch_size": 4, "epochs": 3, "learning_rate": 0.0002, "rank": 16, "alpha": 32},
    total_epochs=3,
    total_steps=3750,
    dataset_id=UUID("7c4e2a10-3b5d-4e6f-8a9b-0c1d2e3f4a5b"),
    dataset_name="support-conversations",
    dataset_format="jsonl",
    dataset_total_training_pairs=5000,
    dataset_total_tokens=1_200_000,
    estimated_total_cost=Decimal("5.94"),  # its estimate: Balanced on 2 x A100-80GB over this dataset
    pricing_version=PRICING_VERSION,
)


def _validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / name).read_text())
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def test_the_committed_worker_message_schemas_are_generated_from_the_models() -> None:
    generated = worker_message_schemas()
    assert sorted(generated) == [
        "training_job.assigned.v2.schema.json",
        "training_job.cancel_requested.v1.schema.json",
    ]
    for name, schema in generated.items():
        assert json.loads((SCHEMAS / name).read_text()) == schema, f"run `make schemas`: {name} is stale"


def test_schemas_holds_exactly_the_generated_message_schemas() -> None:
    committed = {path.name for path in SCHEMAS.glob("*.schema.json")}
    assert committed == set(all_schemas())


def test_the_assignment_the_dispatcher_sends_passes_its_schema() -> None:
    body = assignment_for(CLAIMED, NOW, "pipeline-artifacts", "pipeline-datasets").model_dump(mode="json")

    _validator("training_job.assigned.v2.schema.json").validate(body)
    assert (body["type"], body["version"], body["total_steps"], body["steps_per_epoch"]) == (
        "training_job.assigned",
        2,
        3750,
        1250,
    )
    assert body["base_model"] == {
        "id": "mistral-7b-v0.3",
        "name": "Mistral 7B v0.3",
        "source": "mistralai/Mistral-7B-v0.3",
        "parameters": 7_248_023_552,
        "context_length": 32_768,
        "tokenizer": "mistral-v3",
    }
    assert body["dataset"]["name"] == "support-conversations"
    assert body["output"] == {
        "bucket": "pipeline-artifacts",
        "prefix": f"users/{CLAIMED.user_id}/jobs/{CLAIMED.id}/",
    }


def test_the_cancel_request_passes_its_schema() -> None:
    body = TrainingJobCancelRequested(job_id=JOB_ID, user_id=USER_ID, requested_at=NOW).model_dump(
        mode="json"
    )

    _validator("training_job.cancel_requested.v1.schema.json").validate(body)
    assert body == {
        "type": "training_job.cancel_requested",
        "version": 1,
        "job_id": str(JOB_ID),
        "user_id": str(USER_ID),
        "requested_at": "2026-12-03T12:00:00Z",
    }


BREAKS: dict[str, Any] = {
    "unknown-version": lambda m: m.update(version=1),
    "no-base-model": lambda m: m.pop("base_model"),
    "base-model-without-source": lambda m: m["base_model"].pop("source"),
    "zero-steps": lambda m: m.update(total_steps=0),
    "no-gpu-config": lambda m: m.pop("gpu_config"),
    "unknown-gpu": lambda m: m["gpu_config"].update(type="TPU-v5"),
    "job-id-not-a-uuid": lambda m: m.update(job_id="job-1"),
    "no-output": lambda m: m.pop("output"),
}


@pytest.mark.parametrize("name", sorted(BREAKS))
def test_the_assignment_schema_refuses_a_broken_message(name: str) -> None:
    body = assignment_for(CLAIMED, NOW, "pipeline-artifacts", "pipeline-datasets").model_dump(mode="json")
    BREAKS[name](body)

    with pytest.raises(jsonschema.ValidationError):
        _validator("training_job.assigned.v2.schema.json").validate(body)


@pytest.mark.parametrize("name", sorted(path.name for path in SCHEMAS.glob("training_job.*.schema.json")))
def test_every_message_both_ways_requires_its_type_and_version(name: str) -> None:
    schema = json.loads((SCHEMAS / name).read_text())

    assert schema["required"][:2] == ["type", "version"]
    without = {"type": schema["properties"]["type"]["const"]}
    errors = [error.message for error in _validator(name).iter_errors(without)]
    assert "'version' is a required property" in errors

"""The workers' contract: the committed JSON Schemas are the models', and schema and model agree on
what a valid report is, so a worker team can build from schemas/ alone."""

import copy
import json
from typing import Any

import jsonschema
import pytest
from pydantic import TypeAdapter, ValidationError

from pipeline.workers.report_messages import WorkerReport
from tests.paths import REPO_ROOT
from tools.message_schema import worker_report_schemas

SCHEMAS = REPO_ROOT / "schemas"
ENVELOPE = {
    "version": 1,
    "job_id": "0d9ff9a4-62a5-4d0b-a1a4-0b3f4f5b8f10",
    "user_id": "5b1f7c1e-2a7d-4f7e-9a57-3c1d2b4e6f80",
    "sequence": 3,
    "sent_at": "2026-12-02T12:00:00Z",
}
USAGE = {"step": 250, "epoch": 1, "gpu_seconds": 1834.25}
EXAMPLES: dict[str, dict[str, Any]] = {
    "training_job.started": {"worker_id": "gpu-node-7"},
    "training_job.progress": USAGE | {"metrics": {"train_loss": 1.21, "validation_loss": 1.4}},
    "training_job.checkpoint_saved": USAGE | {"object_key": "jobs/0d9f/checkpoints/step-250"},
    "training_job.completed": USAGE | {"artifact_key": "jobs/0d9f/adapter", "metrics": {"train_loss": 0.9}},
    "training_job.failed": USAGE | {"error": {"code": "out_of_memory", "message": "CUDA out of memory"}},
    "training_job.cancelled": USAGE,
}
ADAPTER: TypeAdapter[Any] = TypeAdapter(WorkerReport)


def _example(kind: str) -> dict[str, Any]:
    return ENVELOPE | {"type": kind} | copy.deepcopy(EXAMPLES[kind])


def _schema(kind: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / f"{kind}.v1.schema.json").read_text())  # type: ignore[no-any-return]


def test_the_committed_schemas_are_generated_from_the_models() -> None:
    generated = worker_report_schemas()
    assert sorted(generated) == sorted(f"{kind}.v1.schema.json" for kind in EXAMPLES)
    for name, schema in generated.items():
        assert json.loads((SCHEMAS / name).read_text()) == schema, f"run `make schemas`: {name} is stale"


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_a_valid_report_passes_its_schema_and_its_model(kind: str) -> None:
    report = _example(kind)
    jsonschema.Draft202012Validator(_schema(kind)).validate(report)
    assert ADAPTER.validate_python(report).type == kind


BREAKS = {
    "unknown-version": lambda r: r.update(version=2),
    "no-sequence": lambda r: r.pop("sequence"),
    "sequence-zero": lambda r: r.update(sequence=0),
    "gpu-seconds-as-text": lambda r: r.update(gpu_seconds="1834.25"),
    "negative-step": lambda r: r.update(step=-1),
    "unknown-field": lambda r: r.update(gpu_temperature=71),
    "job-id-not-a-uuid": lambda r: r.update(job_id="job-1"),
}


@pytest.mark.parametrize("kind", ["training_job.progress", "training_job.completed", "training_job.failed"])
@pytest.mark.parametrize("name", sorted(BREAKS))
def test_schema_and_model_both_refuse_a_broken_report(kind: str, name: str) -> None:
    report = _example(kind)
    BREAKS[name](report)

    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(_schema(kind), format_checker=jsonschema.FormatChecker()).validate(
            report
        )
    with pytest.raises(ValidationError):
        ADAPTER.validate_python(report)


def test_a_float_sum_of_gpu_seconds_is_kept_to_the_millisecond() -> None:
    report = _example("training_job.progress") | {"gpu_seconds": 0.1 + 0.2}
    assert str(ADAPTER.validate_python(report).gpu_seconds) == "0.300"

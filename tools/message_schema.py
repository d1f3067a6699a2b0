"""JSON Schemas of the queue messages, for consumers and workers written in other languages: the
jobs-queue message, the messages we send the GPU workers and each report a worker sends.

    PYTHONPATH=shared python -m tools.message_schema schemas/

(`make schemas`). A test fails when a committed file and its model drift apart.
"""

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from pipeline.jobs.queue_messages import JOB_QUEUED_TYPE, JOB_QUEUED_VERSION, TrainingJobQueuedMessage
from pipeline.workers.messages import TrainingJobAssigned, TrainingJobCancelRequested
from pipeline.workers.report_messages import REPORT_TYPES, REPORT_VERSION

_WORKER_MESSAGE_TRANSPORT: dict[type[BaseModel], str] = {
    TrainingJobAssigned: (
        "Sent on the worker tasks queue (SQS FIFO, MessageGroupId = job_id, MessageDeduplicationId = "
        "type:job_id) for every claimed job. One worker takes it, reports training_job.started, and only "
        "then deletes the message; until then a worker that dies lets it return to the queue. Delivery "
        "is at least once: dedupe by job_id."
    ),
    TrainingJobCancelRequested: (
        "Published on the worker control topic (SNS); every worker host subscribes a queue of its own "
        "(raw message delivery) and hears every control message. The worker running the job stops it "
        "within one step and reports training_job.cancelled; a worker that has not started the job "
        "never starts it; every other worker ignores it. Delivery is at least once."
    ),
}


def job_queued_schema() -> dict[str, Any]:
    schema = TrainingJobQueuedMessage.model_json_schema(mode="serialization")
    schema["description"] = (
        "SQS message body sent for every created training job. Message attributes: type (String) "
        "and version (Number) repeat the body's. Delivery is at least once: dedupe by job_id."
    )
    return _message(schema, JOB_QUEUED_TYPE, JOB_QUEUED_VERSION)


def worker_report_schemas() -> dict[str, dict[str, Any]]:
    """File name -> schema, one per report type."""
    schemas = {}
    for model in REPORT_TYPES:
        kind = model.model_fields["type"].annotation.__args__[0]  # type: ignore[union-attr]
        schema = model.model_json_schema(mode="validation")
        schema["description"] = (
            f"{(model.__doc__ or '').strip()} A worker's report about one job, sent to the job reports "
            "queue (SQS FIFO, MessageGroupId = job_id). sequence counts this job's reports from 1; the "
            "figures are cumulative. A report at or below the last applied sequence changes nothing."
        ).strip()
        schemas[f"{kind}.v{REPORT_VERSION}.schema.json"] = _message(schema, kind, REPORT_VERSION)
    return schemas


def worker_message_schemas() -> dict[str, dict[str, Any]]:
    """File name -> schema, one per message we send the workers."""
    schemas = {}
    for model, transport in _WORKER_MESSAGE_TRANSPORT.items():
        kind = model.model_fields["type"].default
        version = model.model_fields["version"].default
        schema = model.model_json_schema(mode="serialization")
        schema["description"] = f"{(model.__doc__ or '').strip()} {transport}"
        schemas[f"{kind}.v{version}.schema.json"] = _message(schema, kind, version)
    return schemas


def all_schemas() -> dict[str, dict[str, Any]]:
    return (
        {f"{JOB_QUEUED_TYPE}.v{JOB_QUEUED_VERSION}.schema.json": job_queued_schema()}
        | worker_message_schemas()
        | worker_report_schemas()
    )


def _message(schema: dict[str, Any], kind: str, version: int) -> dict[str, Any]:
    """A message's schema as published: every message, both ways, requires its `type` and `version`
    (pydantic lists a field with a default as optional: we always send them, and a report must carry
    them)."""
    required = ["type", "version"] + [
        name for name in schema.get("required", []) if name not in ("type", "version")
    ]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:pipeline:message:{kind}:v{version}",
        **schema,
        "required": required,
    }


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "schemas")
    for name, schema in all_schemas().items():
        (folder / name).write_text(json.dumps(schema, indent=2) + "\n")


if __name__ == "__main__":
    main()

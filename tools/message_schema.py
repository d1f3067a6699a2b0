"""JSON Schema of the jobs-queue message, for consumers written in other languages.

    PYTHONPATH=shared python -m tools.message_schema > schemas/training_job.queued.v1.schema.json

(`make schemas`). A test fails when the committed file and the model drift apart.
"""

import json
from typing import Any

from pipeline.message_models import JOB_QUEUED_TYPE, JOB_QUEUED_VERSION, TrainingJobQueuedMessage


def job_queued_schema() -> dict[str, Any]:
    schema = TrainingJobQueuedMessage.model_json_schema(mode="serialization")
    schema["description"] = (
        "SQS message body sent for every created training job. Message attributes: type (String) "
        "and version (Number) repeat the body's. Delivery is at least once: dedupe by job_id."
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:pipeline:message:{JOB_QUEUED_TYPE}:v{JOB_QUEUED_VERSION}",
        **schema,
    }


def main() -> None:
    print(json.dumps(job_queued_schema(), indent=2))


if __name__ == "__main__":
    main()

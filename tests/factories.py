"""Rows the tests need that this API does not create itself (datasets belong to the dataset section)."""

import json
import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

# The ids used in events/*.json, so those files can be invoked as they are.
EVENT_USER_ID = UUID("8d3f6a2e-4b1c-4e9a-9f57-2c6d1e0b7a11")
EVENT_DATASET_ID = UUID("3b0e2f9c-7a4d-4c1e-8b6f-5d2a9e1c4f70")
EVENT_JOB_ID = UUID("c7a1e5d2-9b3f-4a68-8e21-6f0d4b9c3a55")
EVENT_WEBHOOK_ID = UUID("5b8e2f47-1c3a-4d6e-9f80-7a2b3c4d5e6f")  # the webhook events' endpoint


def insert_dataset(
    db: psycopg.Connection[DictRow],
    *,
    user_id: UUID,
    dataset_id: UUID | None = None,
    name: str = "Customer support v1",
    format: str | None = "jsonl",
    status: str = "ready",
    training_ready: bool = True,
    total_training_pairs: int | None = 5000,
    total_tokens: int | None = 1_200_000,
) -> UUID:
    dataset_id = dataset_id or uuid.uuid4()
    db.execute(
        "insert into lora_datasets (id, user_id, name, format, status, training_ready,"
        " total_training_pairs, total_tokens) values (%s, %s, %s, %s, %s, %s, %s, %s)",
        (dataset_id, user_id, name, format, status, training_ready, total_training_pairs, total_tokens),
    )
    return dataset_id


def create_body(dataset_id: UUID, **overrides: Any) -> dict[str, Any]:
    """A valid POST /jobs body for the default dataset statistics (5000 pairs, 1.2M tokens)."""
    body: dict[str, Any] = {
        "dataset_id": str(dataset_id),
        "preset_id": "balanced",
        "gpu_config": {"type": "A100-80GB", "count": 2},
        "hyperparameters": {
            "learning_rate": 0.00005,
            "batch_size": 4,
            "epochs": 3,
            "rank": 16,
            "alpha": 32,
            "dropout": 0.1,
        },
        "estimated_cost": 5.94,
    }
    body.update(overrides)
    return body


def estimate_body(dataset_id: UUID, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "dataset_id": str(dataset_id),
        "gpu_config": {"type": "A100-80GB", "count": 2},
        "hyperparameters": {"batch_size": 4, "epochs": 3, "learning_rate": 0.00005, "rank": 16},
    }
    body.update(overrides)
    return body


def insert_job(
    db: psycopg.Connection[DictRow],
    *,
    user_id: UUID,
    dataset_id: UUID,
    job_id: UUID | None = None,
    status: str = "queued",
    created_at: datetime | None = None,
) -> UUID:
    """A job row as job processing might have left it (status, creation time chosen by the test). A job
    past `queued` was handed to the workers an hour ago (its started_at): reports may claim the GPU time
    an hour allows."""
    job_id = job_id or uuid.uuid4()
    db.execute(
        "insert into lora_training_jobs (id, user_id, dataset_id, preset_id, status, current_stage,"
        " total_epochs, total_steps, gpu_config, hyperparameters, estimated_total_cost, pricing_version,"
        " queued_at, created_at, started_at)"
        " values (%s, %s, %s, 'fast', %s, %s, 1, 125, %s, %s, 1.23, '2025-12-25', now(),"
        " coalesce(%s, now()), case when %s = 'queued' then null else now() - interval '1 hour' end)",
        (
            job_id,
            user_id,
            dataset_id,
            status,
            status,
            Jsonb({"type": "H100", "count": 1}),
            Jsonb({"learning_rate": 0.0001, "batch_size": 8, "epochs": 1, "rank": 8}),
            created_at,
            status,
        ),
    )
    return job_id


def insert_webhook(
    db: psycopg.Connection[DictRow],
    *,
    user_id: UUID,
    webhook_id: UUID | None = None,
    url: str | None = None,
) -> UUID:
    """A webhook endpoint as POST /webhooks leaves it (every event type, a fixed test secret)."""
    row = db.execute(
        "insert into webhook_endpoints (id, user_id, url, events, secret)"
        " values (coalesce(%s, gen_random_uuid()), %s, %s,"
        " array['job.status_changed', 'job.completed', 'job.failed', 'job.cancelled'],"
        " 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw') returning id",
        (webhook_id, user_id, url or "https://hooks.example.com/pipeline"),
    ).fetchone()
    assert row is not None
    return UUID(str(row["id"]))


class RecordedStops:
    """The workers' control topic as the reports consumer sees it: the stop messages it sent, in order
    (a report on a job that is over or unknown is answered with one)."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def publish(self, *, body: str, message_type: str, version: int, job_id: UUID | None = None) -> None:
        self.sent.append(json.loads(body) | {"message_type": message_type, "message_version": version})

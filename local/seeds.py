"""The demo user's datasets, and rows with made-up figures for tests.

`make run` uploads the demo user's ready dataset for real (local/dataset_uploads.py: the demo file,
through the presigned form, validated by DatasetValidatorFunction) under DEMO_READY_DATASET; its
not-ready one stays a row still processing. insert_dataset writes a row with the figures it is given
(`python -m local dataset --pairs ... --tokens ...`, the tests), or the demo's ready row when there is no
local S3 to upload to (JOBS_QUEUE_URL given).
"""

import uuid
from dataclasses import dataclass
from typing import Final
from uuid import UUID

import psycopg

DEMO_USER: Final = "demo"
# Fixed ids, so seeding is idempotent and the printed commands stay the same across restarts.
DEMO_READY_DATASET: Final = UUID("6f1c3e2a-8b4d-4f5e-9a7b-1c2d3e4f5a6b")
DEMO_PROCESSING_DATASET: Final = UUID("7a2d4f3b-9c5e-4a6f-8b1c-2d3e4f5a6b7c")
DEMO_READY_NAME: Final = "Customer support v1"

_INSERT = """
insert into lora_datasets
    (id, user_id, name, format, status, training_ready, total_training_pairs, total_tokens)
values (%s, %s, %s, %s, %s, %s, %s, %s)
on conflict (id) do nothing
"""


@dataclass(frozen=True)
class DatasetSeed:
    user_id: UUID
    name: str
    total_training_pairs: int | None
    total_tokens: int | None
    status: str = "ready"
    training_ready: bool = True
    format: str = "jsonl"
    id: UUID | None = None


def insert_dataset(database_url: str, seed: DatasetSeed) -> UUID:
    dataset_id = seed.id or uuid.uuid4()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            _INSERT,
            (
                dataset_id,
                seed.user_id,
                seed.name,
                seed.format,
                seed.status,
                seed.training_ready,
                seed.total_training_pairs,
                seed.total_tokens,
            ),
        )
    return dataset_id


def demo_datasets(user_id: UUID) -> tuple[DatasetSeed, DatasetSeed]:
    return (
        DatasetSeed(user_id, DEMO_READY_NAME, 5000, 1_200_000, id=DEMO_READY_DATASET),
        DatasetSeed(
            user_id,
            "Product FAQ (still processing)",
            None,
            None,
            status="processing",
            training_ready=False,
            id=DEMO_PROCESSING_DATASET,
        ),
    )

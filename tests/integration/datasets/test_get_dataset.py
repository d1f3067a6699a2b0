"""GET /datasets/{dataset_id}: what the configuration page shows before a job exists, owner only."""

from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg.rows import DictRow

from functions.get_dataset import app as get_dataset_app
from tests.api_client import build_event, invoke
from tests.factories import insert_dataset


def _get(user_id: UUID, dataset_id: str) -> Any:
    return invoke(get_dataset_app, build_event("get_dataset", sub=user_id, path=f"/datasets/{dataset_id}"))


def test_a_ready_dataset_answers_its_name_size_and_readiness(db: psycopg.Connection[DictRow]) -> None:
    user_id = uuid4()
    dataset_id = insert_dataset(
        db, user_id=user_id, name="Support tickets", total_training_pairs=1234, total_tokens=567_890
    )

    response = _get(user_id, str(dataset_id))

    assert response.status == 200
    assert response.body == {
        "success": True,
        "data": {
            "id": str(dataset_id),
            "name": "Support tickets",
            "format": "jsonl",
            "status": "ready",
            "training_ready": True,
            "total_training_pairs": 1234,
            "total_tokens": 567890,
            "ready_for_training": True,
            # Not uploaded as a file (made before uploads existed): nothing validation would have found.
            "size_bytes": None,
            "sha256": None,
            "examples": None,
            "held_out": None,
            "token_counts": None,
            "errors": None,
            "error_count": 0,
            "upload_expires_at": None,
            "validated_at": None,
            "created_at": response.body["data"]["created_at"],
        },
    }


@pytest.mark.parametrize(
    ("status", "training_ready"), [("processing", False), ("ready", False), ("failed", True)]
)
def test_a_dataset_not_ready_says_so_and_why(
    db: psycopg.Connection[DictRow], status: str, training_ready: bool
) -> None:
    user_id = uuid4()
    dataset_id = insert_dataset(
        db, user_id=user_id, status=status, training_ready=training_ready, total_tokens=None
    )

    data = _get(user_id, str(dataset_id)).body["data"]

    assert (data["status"], data["training_ready"], data["ready_for_training"]) == (
        status,
        training_ready,
        False,
    )
    assert data["total_tokens"] is None


@pytest.mark.parametrize("raw_id", ["not-a-uuid", str(uuid4()), "3b0e2f9c-7a4d-4c1e-8b6f-5d2a9e1c4f7"])
def test_an_unknown_or_malformed_id_is_not_found(db: psycopg.Connection[DictRow], raw_id: str) -> None:
    response = _get(uuid4(), raw_id)

    assert response.status == 404
    assert response.body == {"error": "Dataset not found or access denied"}


def test_without_a_caller_the_answer_is_401(db: psycopg.Connection[DictRow]) -> None:
    dataset_id = insert_dataset(db, user_id=uuid4())

    response = invoke(get_dataset_app, build_event("get_dataset", sub=None, path=f"/datasets/{dataset_id}"))

    assert response.status == 401

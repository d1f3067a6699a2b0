"""SQL for lora_datasets: created by the API (an upload form), filled in by the validator."""

from datetime import datetime
from typing import Any, Final, NamedTuple
from uuid import UUID

from psycopg.types.json import Jsonb

from pipeline.db.database import Connection, Deferred, DeferredRows


class Dataset(NamedTuple):
    id: UUID
    user_id: UUID
    name: str
    format: str | None
    status: str
    training_ready: bool
    total_training_pairs: int | None
    total_tokens: int | None
    # Counted by validation, by base model id (None for a dataset not validated from its file).
    token_counts: dict[str, Any] | None = None
    source_key: str | None = None
    size_bytes: int | None = None
    sha256: str | None = None
    held_out: int | None = None

    @property
    def ready_for_training(self) -> bool:
        return self.status == "ready" and self.training_ready

    def tokens_for(self, base_model: str) -> int | None:
        return tokens_for(self.token_counts, base_model, self.total_tokens)


def tokens_for(token_counts: dict[str, Any] | None, base_model: str, total_tokens: int | None) -> int | None:
    """A dataset's training tokens by the model's own tokenizer, as validation counted them; for a dataset
    not validated from a file, its total_tokens (the reference's fallbacks apply when that is missing)."""
    counted = (token_counts or {}).get(base_model)
    return int(counted["total"]) if counted else total_tokens


_FIND_FOR_USER: Final = """
select id, user_id, name, format, status, training_ready, total_training_pairs, total_tokens, token_counts,
       source_key, size_bytes, sha256, held_out
from lora_datasets where id = %s and user_id = %s
"""

# Each returns everything the API shows of a dataset (models.summary_from_row).
_INSERT_UPLOADING: Final = """
insert into lora_datasets (id, user_id, name, format, status, source_key, upload_expires_at, created_at)
values (%(id)s, %(user_id)s, %(name)s, 'jsonl', 'uploading', %(source_key)s, %(expires_at)s, %(now)s)
returning id, name, format, status, training_ready, total_training_pairs, total_tokens, size_bytes, sha256,
       examples, held_out, token_counts, validation_errors, error_count, upload_expires_at, validated_at,
       created_at
"""
_DETAIL_FOR_USER: Final = """
select id, name, format, status, training_ready, total_training_pairs, total_tokens, size_bytes, sha256,
       examples, held_out, token_counts, validation_errors, error_count, upload_expires_at, validated_at,
       created_at
from lora_datasets where id = %s and user_id = %s
"""
# Newest first, by keyset: never prepared, so the `is null` branch folds away per execution.
_LIST_FOR_USER: Final = """
select id, name, format, status, training_ready, total_training_pairs, total_tokens, size_bytes, sha256,
       examples, held_out, token_counts, validation_errors, error_count, upload_expires_at, validated_at,
       created_at
from lora_datasets
where user_id = %(user_id)s
  and (%(after_created_at)s::timestamptz is null
       or (created_at, id) < (%(after_created_at)s, %(after_id)s::uuid))
order by created_at desc, id desc
limit %(limit)s
"""
# The validator's claim of an upload, locked for the rest of its transaction: only for a dataset of the
# API's (it has a source key), and only for an upload no older than the one validated last (S3's
# sequencers of one key grow: compared left-padded to one length).
_START_VALIDATION: Final = """
update lora_datasets set status = 'processing', training_ready = false
where id = %(id)s and user_id = %(user_id)s and source_key is not null
  and (source_sequencer is null
       or lpad(source_sequencer, 64, '0') <= lpad(%(sequencer)s, 64, '0'))
returning id
"""
_RECORD_VALIDATION: Final = """
update lora_datasets
set status = %(status)s, training_ready = %(ready)s, total_training_pairs = %(pairs)s,
    total_tokens = %(total_tokens)s, size_bytes = %(size_bytes)s, sha256 = %(sha256)s,
    examples = %(examples)s, held_out = %(held_out)s, token_counts = %(token_counts)s,
    validation_errors = %(errors)s, error_count = %(error_count)s, source_sequencer = %(sequencer)s,
    validated_at = %(now)s
where id = %(id)s and user_id = %(user_id)s
  and (source_sequencer is null
       or lpad(source_sequencer, 64, '0') <= lpad(%(sequencer)s, 64, '0'))
"""


_LOCK_FOR_DELETE: Final = "select source_key from lora_datasets where id = %s and user_id = %s for update"
_DELETE: Final = "delete from lora_datasets where id = %s and user_id = %s"


def lock_for_delete(conn: Connection, dataset_id: UUID, user_id: UUID) -> Deferred[tuple[str | None] | None]:
    """(its file's key,) with the row locked until the transaction ends; None when there is no such row."""
    cursor = conn.execute(_LOCK_FOR_DELETE, (dataset_id, user_id))
    return Deferred(cursor, lambda row: (row["source_key"],) if row else None)


def delete(conn: Connection, dataset_id: UUID, user_id: UUID) -> None:
    conn.execute(_DELETE, (dataset_id, user_id))


def find_for_user(conn: Connection, dataset_id: UUID, user_id: UUID) -> Deferred[Dataset | None]:
    # No row lock: SELECT ... FOR SHARE needs UPDATE privilege, which the functions' role does not
    # have on datasets. The jobs' foreign key keeps the dataset from being deleted under a new job.
    cursor = conn.execute(_FIND_FOR_USER, (dataset_id, user_id))
    return Deferred(cursor, lambda row: Dataset(**row) if row else None)


def insert_uploading(
    conn: Connection,
    *,
    dataset_id: UUID,
    user_id: UUID,
    name: str,
    source_key: str,
    expires_at: datetime,
    now: datetime,
) -> Deferred[dict[str, Any]]:
    params = {
        "id": dataset_id,
        "user_id": user_id,
        "name": name,
        "source_key": source_key,
        "expires_at": expires_at,
        "now": now,
    }
    cursor = conn.execute(_INSERT_UPLOADING, params)
    return Deferred(cursor, _the_row)


def _the_row(row: dict[str, Any] | None) -> dict[str, Any]:
    assert row is not None  # an INSERT ... RETURNING that did not raise returned its row
    return dict(row)


def detail_for_user(conn: Connection, dataset_id: UUID, user_id: UUID) -> Deferred[dict[str, Any] | None]:
    cursor = conn.execute(_DETAIL_FOR_USER, (dataset_id, user_id))
    return Deferred(cursor, lambda row: dict(row) if row else None)


def list_for_user(
    conn: Connection, user_id: UUID, *, limit: int, after: tuple[datetime, UUID] | None
) -> DeferredRows[dict[str, Any]]:
    params = {
        "user_id": user_id,
        "limit": limit,
        "after_created_at": after[0] if after else None,
        "after_id": after[1] if after else None,
    }
    cursor = conn.execute(_LIST_FOR_USER, params, prepare=False)
    return DeferredRows(cursor, dict)


def start_validation(conn: Connection, dataset_id: UUID, user_id: UUID, sequencer: str) -> Deferred[bool]:
    cursor = conn.execute(_START_VALIDATION, {"id": dataset_id, "user_id": user_id, "sequencer": sequencer})
    return Deferred(cursor, lambda row: row is not None)


class ValidationResult(NamedTuple):
    ready: bool
    training_examples: int
    total_tokens: int | None  # the default model's: what rows without per-model counts were priced by
    size_bytes: int
    sha256: str
    examples: int
    held_out: int
    token_counts: dict[str, Any]
    errors: list[dict[str, Any]]
    error_count: int


_RECORD_MISSING: Final = """
update lora_datasets
set status = 'failed', training_ready = false, validation_errors = %(errors)s, error_count = 1,
    source_sequencer = %(sequencer)s, validated_at = %(now)s
where id = %(id)s and user_id = %(user_id)s
"""


def record_missing(
    conn: Connection, dataset_id: UUID, user_id: UUID, sequencer: str, error: dict[str, Any], now: datetime
) -> None:
    """The upload's file was gone when validation came to read it (deleted, or never completed)."""
    params = {
        "id": dataset_id,
        "user_id": user_id,
        "sequencer": sequencer,
        "errors": Jsonb([error]),
        "now": now,
    }
    conn.execute(_RECORD_MISSING, params)


def record_validation(
    conn: Connection, dataset_id: UUID, user_id: UUID, sequencer: str, result: ValidationResult, now: datetime
) -> None:
    conn.execute(
        _RECORD_VALIDATION,
        {
            "id": dataset_id,
            "user_id": user_id,
            "sequencer": sequencer,
            "status": "ready" if result.ready else "failed",
            "ready": result.ready,
            "pairs": result.training_examples,
            "total_tokens": result.total_tokens,
            "size_bytes": result.size_bytes,
            "sha256": result.sha256,
            "examples": result.examples,
            "held_out": result.held_out,
            "token_counts": Jsonb(result.token_counts),
            "errors": Jsonb(result.errors),
            "error_count": result.error_count,
            "now": now,
        },
    )

"""SQL for idempotency_keys: the stored outcome of a create, per caller and Idempotency-Key."""

from typing import Final, NamedTuple
from uuid import UUID

from pipeline.db.database import Connection, Deferred


class StoredResponse(NamedTuple):
    request_hash: str
    response_body: str  # the created job's row as JSON: the replay answers 201 with that job


# Transaction-scoped: released at commit or rollback, and when the connection dies.
_TRY_LOCK: Final = "select pg_try_advisory_xact_lock(hashtextextended(%s, 0)) as locked"
_PRUNE_EXPIRED: Final = "delete from idempotency_keys where user_id = %s and expires_at <= now()"
_FIND: Final = """
select request_hash, response_body
from idempotency_keys
where user_id = %s and key = %s and expires_at > now()
"""
# The job as this transaction just wrote it, read in the same statement: no round trip to fetch it
# first. response_status is no longer written (always 201; dropped by a later migration).
_SAVE: Final = """
insert into idempotency_keys (user_id, key, request_hash, job_id, response_body)
select %(user_id)s, %(key)s, %(request_hash)s, j.id, to_jsonb(j)::text
from lora_training_jobs j
where j.id = %(job_id)s
"""


def try_lock(conn: Connection, user_id: UUID, key: str) -> Deferred[bool]:
    """Hold (user, key) for this transaction; False when another transaction holds it."""
    cursor = conn.execute(_TRY_LOCK, (f"{user_id}:{key}",))
    return Deferred(cursor, lambda row: bool(row and row["locked"]))


def find(conn: Connection, user_id: UUID, key: str) -> Deferred[StoredResponse | None]:
    """The unexpired stored response. Queue it after try_lock: the server runs statements in order, so
    this read happens once the lock is held, even when both travel in one round trip."""
    conn.execute(_PRUNE_EXPIRED, (user_id,))
    cursor = conn.execute(_FIND, (user_id, key))
    return Deferred(cursor, lambda row: StoredResponse(**row) if row else None)


def save(conn: Connection, *, user_id: UUID, key: str, request_hash: str, job_id: UUID) -> None:
    """Store the created job as the key's response. Call after the job's insert, in its transaction."""
    conn.execute(_SAVE, {"user_id": user_id, "key": key, "request_hash": request_hash, "job_id": job_id})

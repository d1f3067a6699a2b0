"""SQL for a job's checkpoints (job_checkpoints): written by the reports consumer, read by the API."""

from typing import Any, Final
from uuid import UUID

from psycopg.types.json import Jsonb

from pipeline.db.database import Connection, Deferred, DeferredRows

# A checkpoint reported twice (a re-sent report) keeps its first row; a job keeps at most %(cap)s
# (counted over its own rows, the index on (job_id, step)).
_INSERT: Final = """
insert into job_checkpoints (job_id, user_id, step, epoch, object_key, metrics)
select %(job_id)s, %(user_id)s, %(step)s, %(epoch)s, %(object_key)s, %(metrics)s
where (select count(*) from job_checkpoints where job_id = %(job_id)s) < %(cap)s
on conflict (job_id, step) do nothing
"""
_LIST_FOR_JOB: Final = """
select step, epoch, metrics, saved_at
from job_checkpoints
where job_id = %(job_id)s and user_id = %(user_id)s and step > %(after_step)s
order by step
limit %(limit)s
"""
_KEY_FOR_STEP: Final = (
    "select object_key from job_checkpoints where job_id = %s and user_id = %s and step = %s"
)


def insert_checkpoint(
    conn: Connection,
    *,
    job_id: UUID,
    user_id: UUID,
    step: int,
    epoch: int,
    object_key: str,
    metrics: dict[str, float],
    cap: int,
) -> None:
    conn.execute(
        _INSERT,
        {
            "job_id": job_id,
            "user_id": user_id,
            "step": step,
            "epoch": epoch,
            "object_key": object_key,
            "metrics": Jsonb(metrics),
            "cap": cap,
        },
    )


def list_for_job(
    conn: Connection, job_id: UUID, user_id: UUID, *, after_step: int, limit: int
) -> DeferredRows[dict[str, Any]]:
    params = {"job_id": job_id, "user_id": user_id, "after_step": after_step, "limit": limit}
    return DeferredRows(conn.execute(_LIST_FOR_JOB, params), dict)


def key_for_step(conn: Connection, job_id: UUID, user_id: UUID, step: int) -> Deferred[str | None]:
    cursor = conn.execute(_KEY_FOR_STEP, (job_id, user_id, step))
    return Deferred(cursor, lambda row: str(row["object_key"]) if row else None)

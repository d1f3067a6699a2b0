"""SQL for lora_training_jobs. Every read is filtered by the caller's user_id."""

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Final, NamedTuple, Protocol
from uuid import UUID

from psycopg import sql
from psycopg.types.json import Jsonb

from pipeline.db.database import Connection, Deferred, DeferredRows


class NewJob(NamedTuple):
    id: UUID
    user_id: UUID
    dataset_id: UUID
    # The dataset as the job was created on it: what the job shows once the dataset is deleted.
    dataset_name: str
    dataset_format: str | None
    dataset_total_training_pairs: int | None
    preset_id: str
    base_model: str
    total_epochs: int
    total_steps: int
    gpu_config: dict[str, Any]
    hyperparameters: dict[str, Any]
    estimated_total_cost: Decimal
    pricing_version: str
    # One instant for queued_at, created_at and updated_at, chosen by the caller: the queue message,
    # built before the row is read back, carries the same queued_at.
    queued_at: datetime
    max_cost: Decimal | None = None


class ClaimedJob(NamedTuple):
    """A job just moved to initializing, with what its workers' assignment carries."""

    id: UUID
    user_id: UUID
    preset_id: str
    base_model: str
    gpu_config: dict[str, Any]
    hyperparameters: dict[str, Any]
    total_epochs: int
    total_steps: int
    dataset_id: UUID
    dataset_name: str
    dataset_format: str | None
    dataset_total_training_pairs: int | None
    dataset_total_tokens: int | None
    estimated_total_cost: Decimal
    pricing_version: str
    # What validation found in the dataset's file (None for a dataset not validated from a file).
    dataset_token_counts: dict[str, Any] | None = None
    dataset_source_key: str | None = None
    dataset_sha256: str | None = None
    dataset_size_bytes: int | None = None
    dataset_held_out: int | None = None


_INSERT: Final = """
insert into lora_training_jobs (
    id, user_id, dataset_id, dataset_name, dataset_format, dataset_total_training_pairs, preset_id,
    base_model, status, current_stage, progress, current_epoch,
    total_epochs, current_step, total_steps, gpu_config, hyperparameters, estimated_total_cost, current_cost,
    current_metrics, pricing_version, queued_at, created_at, updated_at, max_cost
) values (
    %(id)s, %(user_id)s, %(dataset_id)s, %(dataset_name)s, %(dataset_format)s, %(dataset_pairs)s,
    %(preset_id)s, %(base_model)s, 'queued', 'queued', 0, 0,
    %(total_epochs)s,
    0, %(total_steps)s, %(gpu_config)s, %(hyperparameters)s, %(estimated_total_cost)s, 0,
    '{}', %(pricing_version)s, %(queued_at)s, %(queued_at)s, %(queued_at)s, %(max_cost)s
)
returning *
"""

# A job's dataset as it was created on it (kept when the dataset is deleted); rows from before the
# copies existed read the dataset itself.
_WITH_DATASET: Final = """
select j.*,
       json_build_object('name', coalesce(j.dataset_name, d.name),
                         'format', case when j.dataset_name is null then d.format else j.dataset_format end,
                         'total_training_pairs', case when j.dataset_name is null then d.total_training_pairs
                                                      else j.dataset_total_training_pairs end) as dataset
from lora_training_jobs j
left join lora_datasets d on d.id = j.dataset_id and d.user_id = j.user_id
"""

_GET_FOR_USER: Final = _WITH_DATASET + "where j.id = %(job_id)s and j.user_id = %(user_id)s"

# One query for every list: by page or by keyset position, with or without a status filter. It is
# never prepared, so each execution is planned with its values and the conditions that do not apply
# (`null is null or ...`) fold away: each case reads the index that fits it, as a query written for
# it alone would. The page of job rows is picked first and only those rows are joined to datasets:
# a join around the whole query would be built for every row OFFSET skips.
_LIST_FOR_USER: Final = """
select j.*,
       json_build_object('name', coalesce(j.dataset_name, d.name),
                         'format', case when j.dataset_name is null then d.format else j.dataset_format end,
                         'total_training_pairs', case when j.dataset_name is null then d.total_training_pairs
                                                      else j.dataset_total_training_pairs end) as dataset
from (
    select * from lora_training_jobs
    where user_id = %(user_id)s
      and (%(status)s::text is null or status = %(status)s)
      and (%(after_created_at)s::timestamptz is null
           or (created_at, id) < (%(after_created_at)s, %(after_id)s::uuid))
    order by created_at desc, id desc
    limit %(limit)s offset %(offset)s
) j
left join lora_datasets d on d.id = j.dataset_id and d.user_id = j.user_id
order by j.created_at desc, j.id desc
"""
# Totals come from the per-user, per-status counters (migration 0005), not from counting rows.
_COUNT_FOR_USER: Final = """
select coalesce(sum(count), 0)::bigint as total
from job_counts
where user_id = %(user_id)s and (%(status)s::text is null or status = %(status)s)
"""


# Conditional: only a queued job moves on, so a duplicate delivery of its message changes nothing.
_CLAIM_QUEUED: Final = """
update lora_training_jobs j
set status = 'initializing', current_stage = 'initializing', started_at = now()
from lora_datasets d
where j.id = %s and j.status = 'queued' and d.id = j.dataset_id and d.user_id = j.user_id
returning j.id, j.user_id, j.preset_id, j.base_model, j.gpu_config, j.hyperparameters, j.total_epochs,
          j.total_steps,
          d.id as dataset_id, d.name as dataset_name, d.format as dataset_format,
          d.total_training_pairs as dataset_total_training_pairs, d.total_tokens as dataset_total_tokens,
          j.estimated_total_cost, j.pricing_version, d.token_counts as dataset_token_counts,
          d.source_key as dataset_source_key, d.sha256 as dataset_sha256, d.size_bytes as dataset_size_bytes,
          d.held_out as dataset_held_out
"""
_STATUS_OF: Final = "select status from lora_training_jobs where id = %s"
# The jobs not yet final that use a dataset: while there are any, it cannot be deleted.
_UNFINISHED_ON_DATASET: Final = """
select id from lora_training_jobs
where dataset_id = %s and user_id = %s and status in ('queued', 'initializing', 'running')
order by created_at limit 10
"""
_STATUS_FOR_USER: Final = "select status from lora_training_jobs where id = %s and user_id = %s"
_ARTIFACT_FOR_USER: Final = (
    "select status, artifact_key, base_model from lora_training_jobs where id = %s and user_id = %s"
)
# The job as a worker's report finds it, locked until the report's transaction ends: reports for one
# job are applied one at a time, in sequence order.
_LOCK_FOR_REPORT: Final = """
select j.status, j.last_report_sequence, j.current_step, j.current_epoch, j.total_steps, j.total_epochs,
       j.progress, j.started_at, j.cancellation_requested_at, j.estimated_total_cost, j.pricing_version,
       j.gpu_config ->> 'type' as gpu_type, (j.gpu_config ->> 'count')::integer as gpu_count,
       coalesce(j.dataset_name, d.name) as dataset_name, j.gpu_seconds, j.current_cost, j.current_metrics,
       j.last_chart_step, j.max_cost, j.stop_reason, j.created_at,
       coalesce(j.last_report_at, j.started_at) as last_heard_at
from lora_training_jobs j
left join lora_datasets d on d.id = j.dataset_id and d.user_id = j.user_id
where j.id = %s
for update of j
"""
# The job as a cancel finds it, locked until the cancel's transaction ends.
# Running jobs not heard from since the cutoff, the longest silent first (the watchdog's policy shows
# them only in a transaction that set pipeline.watchdog).
_SILENT_RUNNING: Final = """
select id, user_id
from lora_training_jobs
where status = 'running' and coalesce(last_report_at, started_at) < %(cutoff)s
order by coalesce(last_report_at, started_at)
limit %(limit)s
"""
# Jobs handed to the workers before the cutoff that no worker has started, the oldest first (seen only in
# a transaction that set pipeline.watchdog: migration 0014).
_UNSTARTED: Final = """
select id, user_id
from lora_training_jobs
where status = 'initializing' and started_at < %(cutoff)s
order by started_at
limit %(limit)s
"""
_LOCK_FOR_CANCEL: Final = """
select j.status, j.cancellation_requested_at, coalesce(j.dataset_name, d.name) as dataset_name
from lora_training_jobs j
left join lora_datasets d on d.id = j.dataset_id and d.user_id = j.user_id
where j.id = %s and j.user_id = %s
for update of j
"""
_CANCEL_NOW: Final = """
update lora_training_jobs
set status = 'cancelled', current_stage = 'cancelled', completed_at = now(), estimated_finish_at = null,
    stop_reason = 'cancelled_by_user'
where id = %s
"""
# A user's cancel of a running job (a budget's stop of it comes with its report: REPORT_COLUMNS).
_REQUEST_CANCELLATION: Final = """
update lora_training_jobs set cancellation_requested_at = now(), stop_reason = 'cancelled_by_user'
where id = %s and cancellation_requested_at is null
"""
# What a report may change, and nothing else (the worker role's column grants say the same).
REPORT_COLUMNS: Final = frozenset(
    {
        "status", "current_stage", "started_at", "completed_at", "progress", "current_epoch",
        "current_step", "current_cost", "current_metrics", "error_message", "error_code", "gpu_seconds",
        "last_report_sequence", "estimated_finish_at", "artifact_key", "last_report_at", "last_chart_step",
        "cancellation_requested_at", "stop_reason",
    }
)  # fmt: skip


def insert(conn: Connection, job: NewJob) -> Deferred[dict[str, Any]]:
    """Insert the job; the row as stored (every column, defaults included) once results are read:
    pipelined, that travels with the transaction's COMMIT, no round trip of its own."""
    params = {
        "id": job.id,
        "user_id": job.user_id,
        "dataset_id": job.dataset_id,
        "dataset_name": job.dataset_name,
        "dataset_format": job.dataset_format,
        "dataset_pairs": job.dataset_total_training_pairs,
        "preset_id": job.preset_id,
        "base_model": job.base_model,
        "total_epochs": job.total_epochs,
        "total_steps": job.total_steps,
        "gpu_config": Jsonb(job.gpu_config),
        "hyperparameters": Jsonb(job.hyperparameters),
        "estimated_total_cost": job.estimated_total_cost,
        "max_cost": job.max_cost,
        "pricing_version": job.pricing_version,
        "queued_at": job.queued_at,
    }
    cursor = conn.execute(_INSERT, params)
    return Deferred(cursor, _the_row)


def _the_row(row: dict[str, Any] | None) -> dict[str, Any]:
    assert row is not None  # an INSERT ... RETURNING that did not raise returned its row
    return dict(row)


def unfinished_on_dataset(conn: Connection, dataset_id: UUID, user_id: UUID) -> DeferredRows[UUID]:
    cursor = conn.execute(_UNFINISHED_ON_DATASET, (dataset_id, user_id))
    return DeferredRows(cursor, lambda row: UUID(str(row["id"])))


def get_for_user(conn: Connection, job_id: UUID, user_id: UUID) -> Deferred[dict[str, Any] | None]:
    cursor = conn.execute(_GET_FOR_USER, {"job_id": job_id, "user_id": user_id})
    return Deferred(cursor, lambda row: dict(row) if row else None)


class KeysetPosition(Protocol):
    """Where a keyset page starts: the jobs older than this one (a cursor's position is one)."""

    @property
    def created_at(self) -> datetime: ...
    @property
    def job_id(self) -> UUID: ...


def list_for_user(
    conn: Connection,
    user_id: UUID,
    *,
    status: str | None,
    limit: int,
    offset: int = 0,
    after: KeysetPosition | None = None,
) -> tuple[DeferredRows[dict[str, Any]], Deferred[int]]:
    """One page of the user's jobs, newest first (ties by id), and the total matching the filter."""
    params = {
        "user_id": user_id,
        "status": status,
        "limit": limit,
        "offset": offset,
        "after_created_at": after.created_at if after else None,
        "after_id": after.job_id if after else None,
    }
    # Never prepared: a prepared statement soon runs a generic plan, which for these range predicates
    # walks far more of the index (the bench's list-scaling rows: a keyset page 1000 deep).
    rows = conn.execute(_LIST_FOR_USER, params, prepare=False)
    count = conn.execute(_COUNT_FOR_USER, params)
    return DeferredRows(rows, dict), Deferred(count, lambda row: int(row["total"]) if row else 0)


def claim_queued(conn: Connection, job_id: UUID) -> ClaimedJob | None:
    """Move a queued job to initializing; None when it is not (or no longer) queued, or not visible."""
    row = conn.execute(_CLAIM_QUEUED, (job_id,)).fetchone()
    return ClaimedJob(**row) if row else None


def status_of(conn: Connection, job_id: UUID) -> str | None:
    row = conn.execute(_STATUS_OF, (job_id,)).fetchone()
    return str(row["status"]) if row else None


def lock_for_report(conn: Connection, job_id: UUID) -> dict[str, Any] | None:
    row = conn.execute(_LOCK_FOR_REPORT, (job_id,)).fetchone()
    return dict(row) if row else None


def update_for_report(conn: Connection, job_id: UUID, updates: dict[str, Any]) -> None:
    """Set the given columns of one job. Column names come from job_lifecycle's plan, checked against
    REPORT_COLUMNS; every value travels as a parameter."""
    unknown = set(updates) - REPORT_COLUMNS
    if unknown:
        raise ValueError(f"a report may not change {sorted(unknown)}")
    assignments = sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder(column))
        for column in sorted(updates)
    )
    params = {column: _parameter(column, value) for column, value in updates.items()}
    conn.execute(
        sql.SQL("update lora_training_jobs set {} where id = {}").format(
            assignments, sql.Placeholder("job_id")
        ),
        params | {"job_id": job_id},
    )


def _parameter(column: str, value: Any) -> Any:
    if column == "current_metrics":
        return Jsonb(value)
    # A status arrives as jobs.states.JobStatus: its value is the column's text (psycopg would write
    # an Enum's name).
    return value.value if isinstance(value, Enum) else value


def lock_for_cancel(conn: Connection, job_id: UUID, user_id: UUID) -> dict[str, Any] | None:
    row = conn.execute(_LOCK_FOR_CANCEL, (job_id, user_id)).fetchone()
    return dict(row) if row else None


def cancel_now(conn: Connection, job_id: UUID) -> None:
    conn.execute(_CANCEL_NOW, (job_id,))


def request_cancellation(conn: Connection, job_id: UUID) -> None:
    """Ask a running job to stop; a second request keeps the first one's time."""
    conn.execute(_REQUEST_CANCELLATION, (job_id,))


def artifact_for_user(conn: Connection, job_id: UUID, user_id: UUID) -> Deferred[dict[str, Any] | None]:
    """The job's status, its final adapter's key (null until it completed) and its base model."""
    cursor = conn.execute(_ARTIFACT_FOR_USER, (job_id, user_id))
    return Deferred(cursor, lambda row: dict(row) if row else None)


def status_for_user(conn: Connection, job_id: UUID, user_id: UUID) -> Deferred[str | None]:
    cursor = conn.execute(_STATUS_FOR_USER, (job_id, user_id))
    return Deferred(cursor, lambda row: str(row["status"]) if row else None)


def silent_running_jobs(conn: Connection, cutoff: datetime, limit: int) -> list[tuple[UUID, UUID]]:
    """(job id, user id) of every tenant's running jobs last heard from before `cutoff`."""
    return _across_tenants(conn, _SILENT_RUNNING, cutoff, limit)


def unstarted_jobs(conn: Connection, cutoff: datetime, limit: int) -> list[tuple[UUID, UUID]]:
    """(job id, user id) of every tenant's jobs handed to the workers before `cutoff` and not started."""
    return _across_tenants(conn, _UNSTARTED, cutoff, limit)


def _across_tenants(conn: Connection, query: str, cutoff: datetime, limit: int) -> list[tuple[UUID, UUID]]:
    with conn.transaction():
        conn.execute("select set_config('pipeline.watchdog', 'on', true)")
        rows = conn.execute(query, {"cutoff": cutoff, "limit": limit}).fetchall()
    return [(row["id"], row["user_id"]) for row in rows]

"""SQL for a job's feed (job_events) and its loss chart's points (job_metric_points)."""

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Final
from uuid import UUID

from psycopg.types.json import Jsonb

from pipeline.db.database import Connection, DeferredRows

_INSERT_EVENT: Final = "insert into job_events (job_id, user_id, type, data) values (%s, %s, %s, %s)"
# A step reported twice (a re-sent report) keeps its first point.
_INSERT_POINT: Final = """
insert into job_metric_points (job_id, user_id, step, epoch, train_loss, validation_loss)
values (%(job_id)s, %(user_id)s, %(step)s, %(epoch)s, %(train_loss)s, %(validation_loss)s)
on conflict (job_id, step) do nothing
"""


_LIST_FOR_JOB: Final = """
select id, type, created_at, data
from job_events
where job_id = %(job_id)s and user_id = %(user_id)s and id > %(after_id)s
order by id
limit %(limit)s
"""


def list_for_job(
    conn: Connection, job_id: UUID, user_id: UUID, *, after_id: int, limit: int
) -> DeferredRows[dict[str, Any]]:
    """The job's events after `after_id`, oldest first."""
    cursor = conn.execute(
        _LIST_FOR_JOB, {"job_id": job_id, "user_id": user_id, "after_id": after_id, "limit": limit}
    )
    return DeferredRows(cursor, dict)


# Equal-count buckets of consecutive steps, each one point: the chart keeps its shape at any length.
# A run with at most max_points points is returned as reported (ntile gives each row its own bucket).
# A bucket's mean is its sum over its count: avg() of a double also sums the squares (for variance),
# which overflows past 1e154 (a loss the contract bounds at 3.4e38, a float32's largest).
_METRIC_POINTS: Final = """
select max(step) as step, max(epoch) as epoch, sum(train_loss) / nullif(count(train_loss), 0) as train_loss,
       sum(validation_loss) / nullif(count(validation_loss), 0) as validation_loss, count(*) as merged
from (
    select step, epoch, train_loss, validation_loss, ntile(%(max_points)s) over (order by step) as bucket
    from job_metric_points
    where job_id = %(job_id)s and user_id = %(user_id)s
) as points
group by bucket
order by bucket
"""


def metric_points_for_job(
    conn: Connection, job_id: UUID, user_id: UUID, *, max_points: int
) -> DeferredRows[dict[str, Any]]:
    """The job's loss chart in step order, at most `max_points` points; `merged` counts the reported
    points each one stands for."""
    cursor = conn.execute(_METRIC_POINTS, {"job_id": job_id, "user_id": user_id, "max_points": max_points})
    return DeferredRows(cursor, dict)


def insert_event(conn: Connection, *, job_id: UUID, user_id: UUID, type: str, data: dict[str, Any]) -> None:
    conn.execute(_INSERT_EVENT, (job_id, user_id, type, Jsonb(_json_ready(data))))


def insert_metric_point(conn: Connection, *, job_id: UUID, user_id: UUID, point: dict[str, Any]) -> None:
    conn.execute(_INSERT_POINT, point | {"job_id": job_id, "user_id": user_id})


def _json_ready(value: Any) -> Any:
    """Money as JSON numbers (exact to the cent: a numeric(12, 2)'s double prints as its text), times
    as ISO 8601 UTC, statuses as their names."""
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value

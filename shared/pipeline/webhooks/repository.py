"""SQL for webhooks (migration 0013): a user's endpoints, the deliveries of job events to them, and
each attempt at a delivery. Row level security keeps every statement inside the caller's tenant."""

from datetime import datetime
from typing import Any, Final
from uuid import UUID

from pipeline.db.database import Connection, Deferred, DeferredRows

# One user's creates queue behind each other (the lock ends with the transaction), so two at once
# cannot both pass the count.
_LOCK_USER_ENDPOINTS: Final = "select pg_advisory_xact_lock(hashtextextended('webhooks:' || %s, 0))"
_COUNT_FOR_USER: Final = "select count(*) as n from webhook_endpoints where user_id = %s"
_INSERT_ENDPOINT: Final = """
insert into webhook_endpoints (user_id, url, description, events, secret)
values (%(user_id)s, %(url)s, %(description)s, %(events)s, %(secret)s)
returning id, url, description, events, created_at, secret_rotated_at
"""
_LIST_ENDPOINTS: Final = """
select id, url, description, events, created_at, secret_rotated_at
from webhook_endpoints where user_id = %s order by created_at, id
"""
_DELETE_ENDPOINT: Final = "delete from webhook_endpoints where id = %s and user_id = %s returning id"
_REPLACE_SIGNING_KEY: Final = """
update webhook_endpoints
set previous_secret = secret, previous_secret_expires_at = %(previous_until)s,
    secret = %(secret)s, secret_rotated_at = %(now)s
where id = %(endpoint_id)s and user_id = %(user_id)s
returning id, url, description, events, created_at, secret_rotated_at
"""
_ENDPOINT_EXISTS: Final = "select 1 from webhook_endpoints where id = %s and user_id = %s"

# Newest first; the cursor is the last row's seq (row level security bounds it to the caller's rows).
_LIST_DELIVERIES: Final = """
select d.seq, d.id, d.job_id, d.event_type, d.status, d.attempts, d.created_at, d.last_attempt_at,
       d.next_attempt_at, d.last_response_status as response_status, d.last_error as error,
       d.delivered_at,
       coalesce((
           select json_agg(json_build_object(
                      'attempt', a.attempt, 'attempted_at', a.attempted_at,
                      'response_status', a.response_status, 'response_body', a.response_body,
                      'error', a.error, 'duration_ms', a.duration_ms) order by a.attempt)
           from webhook_delivery_attempts a where a.delivery_id = d.id
       ), '[]'::json) as attempt_log
from webhook_deliveries d
where d.endpoint_id = %(endpoint_id)s and d.user_id = %(user_id)s
  and (%(before_seq)s::bigint is null or d.seq < %(before_seq)s::bigint)
order by d.seq desc
limit %(limit)s
"""

_SUBSCRIBERS: Final = """
select id, events from webhook_endpoints where user_id = %s and events && %s::text[] order by created_at, id
"""
# What a job event's payload says about the job, as the transaction that recorded it leaves it.
_JOB_FOR_PAYLOAD: Final = """
select j.id, j.status, j.dataset_id, j.progress, j.current_cost, j.estimated_total_cost, j.error_code,
       j.error_message, j.started_at, j.completed_at, j.artifact_key is not null as adapter_available,
       j.max_cost, j.stop_reason
from lora_training_jobs j
where j.id = %s
"""
_INSERT_DELIVERY: Final = """
insert into webhook_deliveries (id, endpoint_id, user_id, job_id, event_type, payload)
values (%(id)s, %(endpoint_id)s, %(user_id)s, %(job_id)s, %(event_type)s, %(payload)s)
"""
_DELIVERY_FOR_ATTEMPT: Final = """
select d.id, d.status, d.attempts, d.payload, e.url, e.secret, e.previous_secret,
       e.previous_secret_expires_at
from webhook_deliveries d join webhook_endpoints e on e.id = d.endpoint_id
where d.id = %s
"""
_COUNT_ATTEMPT: Final = """
update webhook_deliveries
set attempts = attempts + 1, last_attempt_at = %(at)s, last_response_status = %(response_status)s,
    last_error = %(error)s,
    status = case when %(delivered)s then 'delivered'
                  when attempts + 1 >= %(max_attempts)s then 'failed' else 'pending' end,
    delivered_at = case when %(delivered)s then %(at)s::timestamptz end,
    next_attempt_at = case when %(delivered)s or attempts + 1 >= %(max_attempts)s then null
                           else %(at)s + make_interval(secs => (%(retry_schedule)s::int[])[attempts + 1])
                      end
where id = %(delivery_id)s and status = 'pending'
returning user_id, attempts, status, next_attempt_at
"""
_LOG_ATTEMPT: Final = """
insert into webhook_delivery_attempts
    (delivery_id, user_id, attempt, attempted_at, response_status, response_body, error, duration_ms)
values (%(delivery_id)s, %(user_id)s, %(attempt)s, %(at)s, %(response_status)s, %(response_body)s,
        %(error)s, %(duration_ms)s)
"""


def lock_user_endpoints(conn: Connection, user_id: UUID) -> int:
    """Hold the user's endpoint lock for the transaction; how many endpoints they have."""
    conn.execute(_LOCK_USER_ENDPOINTS, (str(user_id),))
    row = conn.execute(_COUNT_FOR_USER, (user_id,)).fetchone()
    assert row is not None  # an aggregate always yields a row
    return int(row["n"])


def insert_endpoint(
    conn: Connection, *, user_id: UUID, url: str, description: str, events: list[str], secret: str
) -> dict[str, Any]:
    row = conn.execute(
        _INSERT_ENDPOINT,
        {"user_id": user_id, "url": url, "description": description, "events": events, "secret": secret},
    ).fetchone()
    assert row is not None  # insert ... returning
    return dict(row)


def list_endpoints(conn: Connection, user_id: UUID) -> DeferredRows[dict[str, Any]]:
    return DeferredRows(conn.execute(_LIST_ENDPOINTS, (user_id,)), dict)


def delete_endpoint(conn: Connection, endpoint_id: UUID, user_id: UUID) -> bool:
    """Delete it and, by cascade, its deliveries and their attempts; False when there was none."""
    return conn.execute(_DELETE_ENDPOINT, (endpoint_id, user_id)).fetchone() is not None


def rotate_secret(
    conn: Connection,
    endpoint_id: UUID,
    user_id: UUID,
    *,
    secret: str,
    now: datetime,
    previous_until: datetime,
) -> dict[str, Any] | None:
    row = conn.execute(
        _REPLACE_SIGNING_KEY,
        {
            "endpoint_id": endpoint_id,
            "user_id": user_id,
            "secret": secret,
            "now": now,
            "previous_until": previous_until,
        },
    ).fetchone()
    return dict(row) if row else None


def endpoint_exists(conn: Connection, endpoint_id: UUID, user_id: UUID) -> Deferred[bool]:
    return Deferred(conn.execute(_ENDPOINT_EXISTS, (endpoint_id, user_id)), lambda row: row is not None)


def list_deliveries(
    conn: Connection, endpoint_id: UUID, user_id: UUID, *, before_seq: int | None, limit: int
) -> DeferredRows[dict[str, Any]]:
    cursor = conn.execute(
        _LIST_DELIVERIES,
        {"endpoint_id": endpoint_id, "user_id": user_id, "before_seq": before_seq, "limit": limit},
    )
    return DeferredRows(cursor, dict)


def subscribers(conn: Connection, user_id: UUID, event_types: list[str]) -> list[dict[str, Any]]:
    """The user's endpoints subscribed to any of `event_types`, with the events each wants."""
    return [dict(row) for row in conn.execute(_SUBSCRIBERS, (user_id, event_types)).fetchall()]


def job_for_payload(conn: Connection, job_id: UUID) -> dict[str, Any] | None:
    row = conn.execute(_JOB_FOR_PAYLOAD, (job_id,)).fetchone()
    return dict(row) if row else None


def insert_delivery(
    conn: Connection,
    *,
    delivery_id: UUID,
    endpoint_id: UUID,
    user_id: UUID,
    job_id: UUID,
    event_type: str,
    payload: str,
) -> None:
    conn.execute(
        _INSERT_DELIVERY,
        {
            "id": delivery_id,
            "endpoint_id": endpoint_id,
            "user_id": user_id,
            "job_id": job_id,
            "event_type": event_type,
            "payload": payload,
        },
    )


def delivery_for_attempt(conn: Connection, delivery_id: UUID) -> dict[str, Any] | None:
    """The delivery with what sending it needs (its endpoint's URL and secrets); None once deleted."""
    row = conn.execute(_DELIVERY_FOR_ATTEMPT, (delivery_id,)).fetchone()
    return dict(row) if row else None


def record_attempt(
    conn: Connection,
    delivery_id: UUID,
    *,
    at: datetime,
    delivered: bool,
    response_status: int | None,
    response_body: str | None,
    error: str | None,
    duration_ms: int,
    retry_schedule_s: list[int],
) -> dict[str, Any] | None:
    """Count the attempt and log it; the delivery's status and next attempt after it. None when the
    delivery is gone or no longer pending (a duplicate message's attempt raced another)."""
    values = {
        "delivery_id": delivery_id,
        "at": at,
        "delivered": delivered,
        "response_status": response_status,
        "response_body": response_body,
        "error": error,
        "duration_ms": duration_ms,
        "max_attempts": len(retry_schedule_s) + 1,
        "retry_schedule": retry_schedule_s,
    }
    row = conn.execute(_COUNT_ATTEMPT, values).fetchone()
    if row is None:
        return None
    conn.execute(_LOG_ATTEMPT, values | {"user_id": row["user_id"], "attempt": row["attempts"]})
    return dict(row)

"""SQL for job_queue_outbox: queue messages kept until they are known to be sent."""

from enum import StrEnum
from typing import Final, NamedTuple
from uuid import UUID

from pipeline.db.database import Connection


class Destination(StrEnum):
    """Where a row's message goes (migrations 0010 and 0013)."""

    JOBS = "jobs"  # the jobs queue, read by the dispatcher
    WORKER_TASKS = "worker_tasks"  # the workers' FIFO queue of assigned jobs
    WORKER_CONTROL = "worker_control"  # the workers' control topic
    WEBHOOKS = "webhooks"  # the webhook deliveries queue (webhook.delivery_due), read by their function


class OutboxMessage(NamedTuple):
    id: int
    job_id: UUID
    message_type: str
    message_version: int
    body: str
    destination: Destination = Destination.JOBS


class Backlog(NamedTuple):
    pending: int
    oldest_age_s: float


_INSERT: Final = """
insert into job_queue_outbox (job_id, message_type, message_version, body, destination)
values (%s, %s, %s, %s, %s)
"""
_MARK_SENT: Final = """
update job_queue_outbox set sent_at = now(), attempts = attempts + 1, last_error = null
where id = any(%s) and sent_at is null
"""
_MARK_SENT_FOR_JOB: Final = """
update job_queue_outbox set sent_at = now(), attempts = attempts + 1, last_error = null
where job_id = %s and destination = %s and sent_at is null
"""
# Oldest first; rows another relay holds are skipped, not waited for, so two relays never send the
# same row at once. Rows younger than min_age are left to their writer's own send right after commit;
# webhook deliveries have no such send, so the relay takes them at once.
_CLAIM_DUE: Final = """
select id, job_id, message_type, message_version, body, destination
from job_queue_outbox
where sent_at is null
  and next_attempt_at <= now()
  and (destination = 'webhooks' or created_at <= now() - make_interval(secs => %(min_age_s)s))
order by created_at, id
limit %(limit)s
for update skip locked
"""
# Exponential backoff: 2, 4, 8 ... seconds after each failed attempt, at most max_backoff_s.
_MARK_FAILED: Final = """
update job_queue_outbox
set attempts = attempts + 1,
    last_error = left(%(error)s, 1000),
    next_attempt_at = now() + make_interval(secs => least(power(2, attempts + 1), %(max_backoff_s)s))
where id = any(%(ids)s)
"""
_BACKLOG: Final = """
select count(*) as pending,
       coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as oldest_age_s
from job_queue_outbox
where sent_at is null
"""


def insert(
    conn: Connection,
    *,
    job_id: UUID,
    message_type: str,
    message_version: int,
    body: str,
    destination: Destination = Destination.JOBS,
) -> None:
    conn.execute(_INSERT, (job_id, message_type, message_version, body, destination.value))


def mark_sent(conn: Connection, outbox_ids: list[int]) -> None:
    conn.execute(_MARK_SENT, (outbox_ids,))


def mark_sent_for_job(conn: Connection, job_id: UUID, destination: Destination = Destination.JOBS) -> None:
    """The writer's own send after commit succeeded: the job's rows for that destination need no relay."""
    conn.execute(_MARK_SENT_FOR_JOB, (job_id, destination.value))


def claim_due(conn: Connection, *, limit: int, min_age_s: float) -> list[OutboxMessage]:
    """Lock up to `limit` due rows for this transaction. Call inside a transaction."""
    rows = conn.execute(_CLAIM_DUE, {"limit": limit, "min_age_s": min_age_s}).fetchall()
    return [OutboxMessage(**(row | {"destination": Destination(row["destination"])})) for row in rows]


def mark_failed(conn: Connection, outbox_ids: list[int], error: str, *, max_backoff_s: int) -> None:
    conn.execute(_MARK_FAILED, {"ids": outbox_ids, "error": error, "max_backoff_s": max_backoff_s})


def backlog(conn: Connection) -> Backlog:
    row = conn.execute(_BACKLOG).fetchone()
    assert row is not None  # an aggregate always yields a row
    return Backlog(pending=int(row["pending"]), oldest_age_s=float(row["oldest_age_s"]))

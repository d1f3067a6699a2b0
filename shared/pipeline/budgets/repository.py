"""SQL for account_limits (migration 0016) and the month's spend, summed over a user's jobs created in
that month (lora_training_jobs_user_created_idx). Every statement names its user; row level security
shows nothing else."""

from datetime import datetime
from decimal import Decimal
from typing import Any, Final, NamedTuple
from uuid import UUID

from pipeline.budgets.rules import Month
from pipeline.db.database import Connection, Deferred, DeferredRows

_GET: Final = "select monthly_spend_limit, updated_at from account_limits where user_id = %s"
_PUT: Final = """
insert into account_limits (user_id, monthly_spend_limit) values (%(user_id)s, %(limit)s)
on conflict (user_id) do update set monthly_spend_limit = excluded.monthly_spend_limit, updated_at = now()
returning monthly_spend_limit, updated_at
"""
# A user's budget lock, held until the transaction ends: every create, every report and every change
# of the limit of one user take it first, so each reads the month as the one before it left it, and a
# create cannot pass in the moment before a first limit is set. An advisory lock: it exists whether or
# not the user has a limit row, and asks for no privilege on the table.
_LOCK_BUDGET: Final = "select pg_advisory_xact_lock(hashtextextended('pipeline.budget:' || %s::text, 0))"
_TRY_LOCK_BUDGET: Final = (
    "select pg_try_advisory_xact_lock(hashtextextended('pipeline.budget:' || %s::text, 0)) as locked"
)
# Charged: what the month's jobs have cost so far. Committed: what its jobs that have not ended may
# still cost, up to their max_cost or else their estimate.
_FINAL: Final = "('completed', 'failed', 'cancelled')"
_TOTALS: Final = f"""
select coalesce(sum(current_cost), 0) as charged,
       coalesce(sum(greatest(coalesce(max_cost, estimated_total_cost) - current_cost, 0))
                filter (where status not in {_FINAL}), 0) as committed
from lora_training_jobs
where user_id = %(user_id)s and created_at >= %(start)s and created_at < %(end)s
"""  # noqa: S608 - a constant list of statuses
_JOBS: Final = f"""
select id as job_id, status, created_at, current_cost as charged,
       case when status in {_FINAL} then 0
            else greatest(coalesce(max_cost, estimated_total_cost) - current_cost, 0) end as committed,
       estimated_total_cost, max_cost
from lora_training_jobs
where user_id = %(user_id)s and created_at >= %(start)s and created_at < %(end)s
  and (%(after_created_at)s::timestamptz is null
       or (created_at, id) < (%(after_created_at)s, %(after_id)s::uuid))
order by created_at desc, id desc
limit %(limit)s
"""  # noqa: S608 - a constant list of statuses
# What a running job may be charged in all under its month's limit: the limit less what the month's
# other jobs have cost (read under the budget lock). No row: no limit.
_ROOM: Final = """
select l.monthly_spend_limit - coalesce((
           select sum(j.current_cost) from lora_training_jobs j
           where j.user_id = l.user_id and j.created_at >= %(start)s and j.created_at < %(end)s
             and j.id <> %(job_id)s), 0) as room
from account_limits l
where l.user_id = %(user_id)s and l.monthly_spend_limit is not null
"""


class MonthTotals(NamedTuple):
    charged: Decimal
    committed: Decimal


def get(conn: Connection, user_id: UUID) -> Deferred[dict[str, Any] | None]:
    return Deferred(conn.execute(_GET, (user_id,)), lambda row: dict(row) if row else None)


def put(conn: Connection, user_id: UUID, limit: Decimal | None) -> Deferred[dict[str, Any] | None]:
    return Deferred(
        conn.execute(_PUT, {"user_id": user_id, "limit": limit}), lambda row: dict(row) if row else None
    )


def lock_budget(conn: Connection, user_id: UUID) -> None:
    """Queue the user's budget lock (held until the transaction ends): first, before any budget read."""
    conn.execute(_LOCK_BUDGET, (user_id,))


def try_lock_budget(conn: Connection, user_id: UUID) -> Deferred[bool]:
    """Queue a try of the user's budget lock, which does not wait: True when it was taken."""
    return Deferred(conn.execute(_TRY_LOCK_BUDGET, (user_id,)), lambda row: bool(row and row["locked"]))


def limit(conn: Connection, user_id: UUID) -> Deferred[Decimal | None]:
    """The user's monthly limit; None when there is none."""
    return Deferred(conn.execute(_GET, (user_id,)), lambda row: row["monthly_spend_limit"] if row else None)


def totals(conn: Connection, user_id: UUID, month: Month) -> Deferred[MonthTotals]:
    cursor = conn.execute(_TOTALS, {"user_id": user_id, "start": month.start, "end": month.end})
    return Deferred(cursor, lambda row: MonthTotals(row["charged"], row["committed"]) if row else _NONE)


def jobs(
    conn: Connection,
    user_id: UUID,
    month: Month,
    *,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> DeferredRows[dict[str, Any]]:
    params = {
        "user_id": user_id,
        "start": month.start,
        "end": month.end,
        "after_created_at": after[0] if after else None,
        "after_id": after[1] if after else None,
        "limit": limit,
    }
    return DeferredRows(conn.execute(_JOBS, params), dict)


def room_for_job(conn: Connection, user_id: UUID, job_id: UUID, month: Month) -> Decimal | None:
    """What the job may be charged in all under its month's limit, under the user's budget lock (taken
    here, held until the transaction ends); None: no limit."""
    lock_budget(conn, user_id)
    row = conn.execute(
        _ROOM, {"user_id": user_id, "job_id": job_id, "start": month.start, "end": month.end}
    ).fetchone()
    return None if row is None else Decimal(row["room"])


_NONE: Final = MonthTotals(Decimal("0.00"), Decimal("0.00"))

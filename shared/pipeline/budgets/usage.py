"""The month's spend against the account's limit: shown beside every estimate, checked by every
create, listed by GET /account/usage.

A job counts in the calendar month (UTC) it was created. Charged: what the month's jobs have cost so
far. Committed: what its jobs that have not ended may still cost, up to their max_cost or else their
estimate. A create fits when charged, committed and the new job's own (its max_cost, else its estimate)
stay within the limit; the limit's row is locked while a create checks, so two creates that each fit
alone but not together cannot both pass, nor one that checked just before a first limit was set.
"""

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from pipeline.budgets import repository as budgets_repository
from pipeline.budgets import rules
from pipeline.budgets.models import JobSpend, MonthlySpend, MonthlyUsage, UsageQuery
from pipeline.db import cursor
from pipeline.db.database import Connection, Database
from pipeline.errors import InvalidInput, MonthlyLimitReached


def monthly_usage(
    database: Database, user_id: UUID, query: UsageQuery, now: datetime, cursor_secret: str
) -> MonthlyUsage:
    month = rules.month_named(query.month) if query.month else rules.month_of(now)
    scope = [str(user_id), month.label]
    after = _after(query.cursor, scope, cursor_secret) if query.cursor is not None else None

    def queue(conn: Connection) -> Callable[[], MonthlyUsage]:
        limits = budgets_repository.get(conn, user_id)
        totals = budgets_repository.totals(conn, user_id, month)
        rows = budgets_repository.jobs(conn, user_id, month, after=after, limit=query.limit + 1)

        def collect() -> MonthlyUsage:
            found = limits.result()
            limit = found["monthly_spend_limit"] if found else None
            spend = _spend(month, limit, totals.result())
            found_rows = rows.result()  # a cursor's rows are read once
            page = found_rows[: query.limit]
            more = len(found_rows) > query.limit
            last = page[-1] if page else None
            return MonthlyUsage(
                **spend.model_dump(),
                jobs=[JobSpend.model_validate(row) for row in page],
                next_cursor=cursor.encode(
                    cursor_secret,
                    list_name="account_usage",
                    scope=scope,
                    position=[last["created_at"].isoformat(), str(last["job_id"])],
                )
                if more and last is not None
                else None,
            )

        return collect

    return database.read(user_id, queue, one_snapshot=True)


def spend_for_estimate(conn: Connection, user_id: UUID, now: datetime) -> Callable[[], MonthlySpend | None]:
    """Queue what an estimate shows of this month (read with it, in its round trip): None without a
    limit."""
    month = rules.month_of(now)
    limits = budgets_repository.get(conn, user_id)
    totals = budgets_repository.totals(conn, user_id, month)

    def collect() -> MonthlySpend | None:
        found = limits.result()
        if found is None or found["monthly_spend_limit"] is None:
            return None
        return _spend(month, found["monthly_spend_limit"], totals.result())

    return collect


def queue_create_check(conn: Connection, user_id: UUID, now: datetime) -> Callable[[Decimal], None]:
    """Queue, in a create's transaction, a try of the user's budget lock, then their limit and the
    month's totals; the returned check raises MonthlyLimitReached when a job of `reservation` would not
    fit. The try costs no round trip of its own; when another create or report of the user holds the
    lock, the check waits for it and reads the month again, under it."""
    month = rules.month_of(now)
    locked = budgets_repository.try_lock_budget(conn, user_id)
    limit = budgets_repository.limit(conn, user_id)
    totals = budgets_repository.totals(conn, user_id, month)

    def check(reservation: Decimal) -> None:
        ceiling, spent = limit, totals
        if not locked.result():
            budgets_repository.lock_budget(conn, user_id)
            ceiling = budgets_repository.limit(conn, user_id)
            spent = budgets_repository.totals(conn, user_id, month)
        _check(ceiling.result(), spent.result(), reservation)

    return check


def _check(ceiling: Decimal | None, month: budgets_repository.MonthTotals, reservation: Decimal) -> None:
    if ceiling is None:
        return
    if not rules.fits(limit=ceiling, charged=month.charged, committed=month.committed, job=reservation):
        raise MonthlyLimitReached(
            limit=ceiling, charged=month.charged, committed=month.committed, job=reservation
        )


def _spend(month: rules.Month, limit: Decimal | None, totals: budgets_repository.MonthTotals) -> MonthlySpend:
    return MonthlySpend(
        month=month.label,
        monthly_spend_limit=limit,
        charged=totals.charged,
        committed=totals.committed,
        remaining=rules.remaining(limit=limit, charged=totals.charged, committed=totals.committed),
    )


def _after(token: str, scope: list[str], secret: str) -> tuple[datetime, UUID]:
    try:
        created_at, job_id = cursor.decode(token, secret, list_name="account_usage", scope=scope)
        return datetime.fromisoformat(created_at), UUID(job_id)
    except (cursor.InvalidCursor, ValueError, TypeError):
        raise InvalidInput("cursor", "Invalid cursor") from None

"""The budget rules, pure: which month a job counts in, what a job reserves of the month, whether a
job fits the month's limit, and what a running job may still be charged."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import NamedTuple

_ZERO = Decimal("0.00")


class Month(NamedTuple):
    label: str  # YYYY-MM
    start: datetime
    end: datetime  # exclusive


def month_of(moment: datetime) -> Month:
    """The calendar month (UTC) a moment falls in: a job counts in the month it was created."""
    utc = moment.astimezone(UTC)
    return month(utc.year, utc.month)


def month_named(label: str) -> Month:
    year, number = (int(part) for part in label.split("-"))
    return month(year, number)


def month(year: int, number: int) -> Month:
    start = datetime(year, number, 1, tzinfo=UTC)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC)
    return Month(f"{year:04d}-{number:02d}", start, end)


def reservation(estimated_cost: Decimal, max_cost: Decimal | None) -> Decimal:
    """What a job holds of its month until it ends: its max_cost if it has one, else its estimate."""
    return max_cost if max_cost is not None else estimated_cost


def fits(*, limit: Decimal, charged: Decimal, committed: Decimal, job: Decimal) -> bool:
    """A job fits the month when charged, committed and the job together stay within the limit
    (exactly at the limit fits; a cent over does not)."""
    return charged + committed + job <= limit


def remaining(*, limit: Decimal | None, charged: Decimal, committed: Decimal) -> Decimal | None:
    return None if limit is None else max(limit - charged - committed, _ZERO)


def cap(max_cost: Decimal | None, month_room: Decimal | None) -> Decimal | None:
    """The most a running job may be charged in all: its max_cost, and what its month's limit leaves
    it (the limit less what the month's other jobs have cost); None when neither applies."""
    caps = [value for value in (max_cost, month_room) if value is not None]
    return min(caps) if caps else None

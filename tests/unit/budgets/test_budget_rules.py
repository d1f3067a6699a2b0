"""The budget rules: the month a job counts in, what it holds of the month, whether it fits, its cap."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from pipeline.budgets import rules


def test_a_job_counts_in_the_utc_month_it_was_created_in() -> None:
    new_years_eve_in_new_york = datetime(2026, 12, 31, 20, 0, tzinfo=timezone(timedelta(hours=-5)))

    month = rules.month_of(new_years_eve_in_new_york)  # 01:00 on 1 January, UTC

    assert month == rules.Month("2027-01", datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    ("label", "start", "end"),
    [
        ("2026-02", datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)),
        ("2026-12", datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
        ("2999-12", datetime(2999, 12, 1, tzinfo=UTC), datetime(3000, 1, 1, tzinfo=UTC)),
    ],
)
def test_a_named_month_runs_from_its_first_day_to_the_next_months(
    label: str, start: datetime, end: datetime
) -> None:
    assert rules.month_named(label) == rules.Month(label, start, end)


def test_a_job_holds_its_max_cost_of_the_month_else_its_estimate() -> None:
    assert rules.reservation(Decimal("5.94"), Decimal("3.00")) == Decimal("3.00")
    assert rules.reservation(Decimal("5.94"), None) == Decimal("5.94")


def test_a_job_exactly_at_the_limit_fits_and_a_cent_over_does_not() -> None:
    spent = {"limit": Decimal("100.00"), "charged": Decimal("60.00"), "committed": Decimal("30.00")}

    assert rules.fits(**spent, job=Decimal("10.00"))
    assert not rules.fits(**spent, job=Decimal("10.01"))


def test_what_is_left_of_a_month_is_never_negative_and_unlimited_without_a_limit() -> None:
    assert rules.remaining(limit=Decimal("50.00"), charged=Decimal("45.00"), committed=Decimal("10.00")) == 0
    assert rules.remaining(limit=Decimal("50.00"), charged=Decimal("5.00"), committed=Decimal("10.00")) == (
        Decimal("35.00")
    )
    assert rules.remaining(limit=None, charged=Decimal("5.00"), committed=Decimal("0")) is None


@pytest.mark.parametrize(
    ("max_cost", "month_room", "cap"),
    [
        (None, None, None),
        (Decimal("3.00"), None, Decimal("3.00")),
        (None, Decimal("7.50"), Decimal("7.50")),
        (Decimal("3.00"), Decimal("7.50"), Decimal("3.00")),
        (Decimal("9.00"), Decimal("7.50"), Decimal("7.50")),
    ],
)
def test_a_running_jobs_cap_is_the_lower_of_its_budget_and_what_the_month_leaves_it(
    max_cost: Decimal | None, month_room: Decimal | None, cap: Decimal | None
) -> None:
    assert rules.cap(max_cost, month_room) == cap

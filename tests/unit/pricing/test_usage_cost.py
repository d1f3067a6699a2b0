"""What a job is charged for the GPU time it used: exact Decimal arithmetic, half-up to the cent."""

from decimal import Decimal

import pytest

from pipeline.catalog.gpu_prices import PRICING_VERSION, UnknownPricing, prices_for
from pipeline.pricing.usage_cost import charge, compute_cost


@pytest.mark.parametrize(
    ("gpu_seconds", "price", "expected"),
    [
        ("3600", "3.50", "3.50"),  # one GPU-hour
        ("7200.5", "4.20", "8.40"),  # 8.400583...
        ("1", "3.50", "0.00"),  # 0.00097...
        ("1800", "0.01", "0.01"),  # 0.005: half up, not to even
        ("5400", "0.01", "0.02"),  # 0.015: half up
        ("0", "4.20", "0.00"),
        ("31536000", "4.20", "36792.00"),  # a GPU-year
    ],
)
def test_gpu_time_is_charged_at_the_price_per_gpu_hour(gpu_seconds: str, price: str, expected: str) -> None:
    assert compute_cost(Decimal(gpu_seconds), Decimal(price)) == Decimal(expected)


def test_a_completed_job_adds_the_storage_charge_and_a_stopped_one_does_not() -> None:
    used = {
        "gpu_seconds": Decimal("3600"),
        "price_per_gpu_hour": Decimal("3.50"),
        "storage_cost": Decimal("0.50"),
    }
    assert charge(**used, completed=True) == Decimal("4.00")
    assert charge(**used, completed=False) == Decimal("3.50")


def test_negative_gpu_time_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        compute_cost(Decimal("-1"), Decimal("3.50"))


def test_a_job_is_priced_at_its_own_pricing_version() -> None:
    assert prices_for(PRICING_VERSION, "H100") == (Decimal("4.20"), Decimal("0.50"))
    with pytest.raises(UnknownPricing, match="pricing version '1999-01-01'"):
        prices_for("1999-01-01", "H100")
    with pytest.raises(UnknownPricing, match="'TPU'"):
        prices_for(PRICING_VERSION, "TPU")

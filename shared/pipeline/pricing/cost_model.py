"""Training cost and duration: pure functions over plain values.

The figures must equal the reference implementation's (JavaScript) to the cent for the same inputs,
so the arithmetic is done in IEEE doubles in the reference's order of operations, and rounded the way
JavaScript's `Number.prototype.toFixed(2)` rounds: half-up on the exact binary value of the double.
Python's `round()` rounds half-to-even and would differ on ties.
"""

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Final, NamedTuple

from pipeline.pricing import usage_cost

# Fallbacks the reference uses when a dataset has no statistics yet (missing or 0).
DEFAULT_TRAINING_PAIRS: Final = 1000
DEFAULT_TOKENS_PER_PAIR: Final = 200

# Fixed overhead: initialisation (10 min), validation after each epoch (5 min), final save (5 min).
INIT_OVERHEAD_SECONDS: Final = 10 * 60
PER_EPOCH_OVERHEAD_SECONDS: Final = 5 * 60
SAVE_OVERHEAD_SECONDS: Final = 5 * 60

_CENT: Final = Decimal("0.01")


# The largest run this API accepts: beyond these a configuration is refused (422 Configuration too
# large), on estimate and on create. The reference's "maximums" case (10M pairs on 8 H100s for 20
# epochs: 3.1M steps, $42,489, 422 GPU-days) is inside; a job row holds far more (integer steps,
# numeric(12, 2) money), so an absurd dataset or configuration never becomes a price or a 500.
MAX_TOTAL_STEPS: Final = 10_000_000
MAX_ESTIMATED_COST: Final = Decimal("100000.00")
MAX_GPU_DAYS: Final = 1000  # GPUs x estimated wall-clock days


class Bounds(NamedTuple):
    total_steps: int
    estimated_cost: Decimal
    gpu_days: int


LIMITS: Final = Bounds(MAX_TOTAL_STEPS, MAX_ESTIMATED_COST, MAX_GPU_DAYS)


class CostEstimate(NamedTuple):
    estimated_cost: Decimal
    compute_cost: Decimal
    storage_cost: Decimal
    estimated_duration_hours: Decimal
    hourly_rate: Decimal
    total_steps: int
    steps_per_epoch: int
    throughput_tokens_per_sec: int
    gpu_days: Decimal
    # The wall-clock run the estimate prices, unrounded: every other figure comes from it.
    duration_seconds: float


def exceeded_limits(figures: CostEstimate) -> dict[str, int | Decimal]:
    """The limits `figures` exceed, each with the figure: empty when the run is within them."""
    exceeded: dict[str, int | Decimal] = {}
    if figures.total_steps > MAX_TOTAL_STEPS:
        exceeded["total_steps"] = figures.total_steps
    if figures.estimated_cost > MAX_ESTIMATED_COST:
        exceeded["estimated_cost"] = figures.estimated_cost
    if figures.gpu_days > MAX_GPU_DAYS:
        exceeded["gpu_days"] = figures.gpu_days
    return exceeded


def to_fixed_2(value: float) -> Decimal:
    """JavaScript's `value.toFixed(2)`: `Decimal(float)` is the exact binary value, rounded half-up."""
    if not math.isfinite(value):
        raise ValueError(f"cannot round a non-finite value: {value!r}")
    return Decimal(value).quantize(_CENT, rounding=ROUND_HALF_UP)


def effective_training_pairs(total_training_pairs: int | None) -> int:
    return total_training_pairs or DEFAULT_TRAINING_PAIRS


def effective_total_tokens(total_tokens: int | None, training_pairs: int) -> int:
    return total_tokens or training_pairs * DEFAULT_TOKENS_PER_PAIR


def estimate_cost(
    *,
    price_per_gpu_hour: Decimal,
    throughput_per_gpu: int,
    gpu_count: int,
    batch_size: int,
    epochs: int,
    total_training_pairs: int | None,
    total_tokens: int | None,
    storage_cost: Decimal,
) -> CostEstimate:
    # float(Decimal("3.50")) is the same double as the JavaScript literal 3.50.
    hourly_rate = float(price_per_gpu_hour) * gpu_count
    total_throughput = throughput_per_gpu * gpu_count

    training_pairs = effective_training_pairs(total_training_pairs)
    tokens = effective_total_tokens(total_tokens, training_pairs)

    steps_per_epoch = math.ceil(training_pairs / batch_size)
    steps = steps_per_epoch * epochs

    avg_tokens_per_step = (tokens / training_pairs) * batch_size
    seconds_per_step = avg_tokens_per_step / total_throughput
    total_training_seconds = steps * seconds_per_step

    overhead_seconds = INIT_OVERHEAD_SECONDS + epochs * PER_EPOCH_OVERHEAD_SECONDS + SAVE_OVERHEAD_SECONDS
    total_seconds = total_training_seconds + overhead_seconds
    estimated_hours = total_seconds / 3600

    compute_cost = hourly_rate * estimated_hours
    total_cost = compute_cost + float(storage_cost)

    return CostEstimate(
        estimated_cost=to_fixed_2(total_cost),
        compute_cost=to_fixed_2(compute_cost),
        storage_cost=storage_cost,
        estimated_duration_hours=to_fixed_2(estimated_hours),
        hourly_rate=to_fixed_2(hourly_rate),
        total_steps=steps,
        steps_per_epoch=steps_per_epoch,
        throughput_tokens_per_sec=total_throughput,
        gpu_days=to_fixed_2(estimated_hours * gpu_count / 24),
        duration_seconds=total_seconds,
    )


def charged_duration_seconds(
    duration_seconds: float, *, compute_cost: Decimal, price_per_gpu_hour: Decimal, gpu_count: int
) -> int:
    """The whole seconds of a run whose GPU time (seconds x GPUs) is charged `compute_cost` to the cent:
    the nearest to the unrounded `duration_seconds` among those. A run that takes exactly this long
    costs exactly what the user was shown. While a cent buys more than a second of every setup, one of
    the seconds next to the duration qualifies (a test checks every GPU type and count)."""
    nearest = round(duration_seconds)
    candidates = sorted(range(max(nearest - 2, 0), nearest + 3), key=lambda s: abs(s - duration_seconds))
    for seconds in candidates:
        if usage_cost.compute_cost(Decimal(seconds * gpu_count), price_per_gpu_hour) == compute_cost:
            return seconds
    return nearest  # pragma: no cover - unreachable while a cent buys more than a second

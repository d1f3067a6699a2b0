"""What a job costs for what it used: pure functions over Decimal, never floats.

A job is charged GPU time at its own pricing version's price per GPU-hour (GPU-seconds are summed over
its GPUs, as the workers report them), rounded half-up to the cent; a completed job adds the flat
storage charge for its adapter. A cancelled or failed job pays for the GPU time it used and nothing
more. Like every comparable API, a run that takes longer than estimated is charged what it used: the
estimate is an estimate, and the job shows the difference while it runs (cost_over_estimate).
"""

from decimal import ROUND_HALF_UP, Decimal
from typing import Final

_CENT: Final = Decimal("0.01")
_SECONDS_PER_HOUR: Final = Decimal(3600)


def compute_cost(gpu_seconds: Decimal, price_per_gpu_hour: Decimal) -> Decimal:
    if gpu_seconds < 0:
        raise ValueError("GPU-seconds cannot be negative")
    return (gpu_seconds * price_per_gpu_hour / _SECONDS_PER_HOUR).quantize(_CENT, rounding=ROUND_HALF_UP)


def charge(
    *, gpu_seconds: Decimal, price_per_gpu_hour: Decimal, storage_cost: Decimal, completed: bool
) -> Decimal:
    """The job's cost so far (while it runs) or its final charge."""
    compute = compute_cost(gpu_seconds, price_per_gpu_hour)
    return compute + storage_cost if completed else compute

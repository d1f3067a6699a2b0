"""GPU prices and throughputs: data, versioned, shared by the cost model, the validators and the page.

Changing any figure here changes what users are charged: bump PRICING_VERSION with it, so every
estimate and job records which prices it was computed with.
"""

from decimal import Decimal
from typing import Final, NamedTuple

PRICING_VERSION: Final = "2025-12-25"


class GpuType(NamedTuple):
    id: str
    label: str
    price_per_gpu_hour: Decimal
    throughput_tokens_per_sec: int
    description: str


GPU_TYPES: Final[dict[str, GpuType]] = {
    gpu.id: gpu
    for gpu in (
        GpuType("A100-80GB", "NVIDIA A100 80GB", Decimal("3.50"), 1800, "Best overall performance"),
        GpuType("A100-40GB", "NVIDIA A100 40GB", Decimal("2.80"), 1500, "Good for smaller models"),
        GpuType("H100", "NVIDIA H100", Decimal("4.20"), 2200, "Fastest available"),
        GpuType("V100-32GB", "NVIDIA V100 32GB", Decimal("2.10"), 1200, "Budget option"),
    )
}

# Flat charge per job for storing the trained adapter (the reference's "model artifacts storage").
STORAGE_COST: Final = Decimal("0.50")

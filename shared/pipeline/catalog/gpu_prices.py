"""GPU prices and throughputs: data, versioned, shared by the cost model, the validators and the page.

Changing any figure here changes what users are charged: add a new version with its own figures and
make it PRICING_VERSION; never edit a version already used. Every estimate and job records its
version, and a job's GPU time is charged at its own version's prices (`prices_for`).
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


class UnknownPricing(LookupError):
    """A job's pricing version or GPU type that this code no longer knows: a bug, never a guess."""


class JobPrices(NamedTuple):
    price_per_gpu_hour: Decimal
    storage_cost: Decimal


# Every version ever used, with its GPU prices and storage charge.
_VERSIONS: Final[dict[str, tuple[dict[str, GpuType], Decimal]]] = {PRICING_VERSION: (GPU_TYPES, STORAGE_COST)}


def prices_for(pricing_version: str, gpu_type: str) -> JobPrices:
    try:
        gpus, storage_cost = _VERSIONS[pricing_version]
        return JobPrices(gpus[gpu_type].price_per_gpu_hour, storage_cost)
    except KeyError:
        raise UnknownPricing(f"no prices for {gpu_type!r} at pricing version {pricing_version!r}") from None

"""GPU prices and throughputs: data, versioned, shared by the cost model, the validators and the page.

Changing any figure here changes what users are charged: add a new version with its own figures and
make it PRICING_VERSION; never edit a version already used. Every estimate and job records its
version, and a job's GPU time is charged at its own version's prices (`prices_for`).
"""

from decimal import Decimal
from typing import Final, NamedTuple

from pipeline.catalog.base_models import BASE_MODELS, BaseModelSpec

PRICING_VERSION: Final = "2025-12-25"


class GpuType(NamedTuple):
    id: str
    label: str
    price_per_gpu_hour: Decimal
    throughput_tokens_per_sec: int  # the default base model's (base_models.py): the reference figures
    description: str
    memory_gib: int  # on each GPU: what the memory rule (memory_fit.py) fits a model into


GPU_TYPES: Final[dict[str, GpuType]] = {
    gpu.id: gpu
    for gpu in (
        GpuType("A100-80GB", "NVIDIA A100 80GB", Decimal("3.50"), 1800, "Best overall performance", 80),
        GpuType("A100-40GB", "NVIDIA A100 40GB", Decimal("2.80"), 1500, "Good for smaller models", 40),
        GpuType("H100", "NVIDIA H100", Decimal("4.20"), 2200, "Fastest available", 80),
        GpuType("V100-32GB", "NVIDIA V100 32GB", Decimal("2.10"), 1200, "Budget option", 32),
    )
}

# Flat charge per job for storing the trained adapter (the reference's "model artifacts storage").
STORAGE_COST: Final = Decimal("0.50")


class UnknownPricing(LookupError):
    """A job's pricing version or GPU type that this code no longer knows: a bug, never a guess."""


class JobPrices(NamedTuple):
    price_per_gpu_hour: Decimal
    storage_cost: Decimal


class _PriceList(NamedTuple):
    gpu_types: dict[str, GpuType]
    storage_cost: Decimal
    base_models: dict[str, BaseModelSpec]


# Every version ever used, with its GPU prices, storage charge and base models. Adding a base model to
# the current version changes no figure of a job already created (each keeps its model); changing a
# listed model's throughput or architecture does, and needs a new version.
_VERSIONS: Final[dict[str, _PriceList]] = {PRICING_VERSION: _PriceList(GPU_TYPES, STORAGE_COST, BASE_MODELS)}


def prices_for(pricing_version: str, gpu_type: str) -> JobPrices:
    try:
        price_list = _VERSIONS[pricing_version]
        return JobPrices(price_list.gpu_types[gpu_type].price_per_gpu_hour, price_list.storage_cost)
    except KeyError:
        raise UnknownPricing(f"no prices for {gpu_type!r} at pricing version {pricing_version!r}") from None


def run_inputs_for(pricing_version: str, gpu_type: str, base_model: str) -> tuple[GpuType, BaseModelSpec]:
    """The GPU type and base model a job was priced with, at its own pricing version."""
    try:
        price_list = _VERSIONS[pricing_version]
        return price_list.gpu_types[gpu_type], price_list.base_models[base_model]
    except KeyError:
        raise UnknownPricing(
            f"no {gpu_type!r} or {base_model!r} at pricing version {pricing_version!r}"
        ) from None

"""The base models a LoRA adapter can be trained on: data, versioned with the prices (gpu_prices.py).

Each model's figures decide two things a user pays for: how fast it trains (its throughput against the
reference figures, which are the default model's) and which GPU setups can hold it (memory_fit.py).
Adding a model is additive; changing a listed model's throughput or architecture changes prices and
fits, so it needs a new pricing version, like a GPU price. Architecture figures are the models' own
published configurations (config.json on each model's Hugging Face page); parameter counts likewise.
"""

from decimal import Decimal
from typing import Final, NamedTuple


class Architecture(NamedTuple):
    """What the memory rule needs of a decoder-only transformer (every linear layer gets a LoRA pair)."""

    layers: int
    hidden_size: int
    intermediate_size: int
    attention_size: int  # query heads x head dimension (the q and o projections' inner size)
    key_value_size: int  # key/value heads x head dimension (grouped-query attention)
    vocabulary_size: int


class BaseModelSpec(NamedTuple):
    id: str
    name: str
    source: str  # the weights a worker loads: a Hugging Face repository id
    parameters: int
    context_length: int
    license: str
    tokenizer: str  # the tokenizer id its tokens are counted with (pipeline.datasets.tokenizers)
    # Tokens per second per GPU against the reference figures (gpu_prices.py), which are the default
    # model's (factor 1). Roughly the default's parameter count over this model's: training cost per
    # token grows with the parameters.
    throughput_factor: Decimal
    architecture: Architecture


BASE_MODELS: Final[dict[str, BaseModelSpec]] = {
    model.id: model
    for model in (
        BaseModelSpec(
            id="llama-3.2-3b",
            name="Llama 3.2 3B",
            source="meta-llama/Llama-3.2-3B",
            parameters=3_212_749_824,
            context_length=131_072,
            license="Llama 3.2 Community License",
            tokenizer="llama3",
            throughput_factor=Decimal("2.25"),
            architecture=Architecture(28, 3072, 8192, 3072, 1024, 128_256),
        ),
        BaseModelSpec(
            id="mistral-7b-v0.3",
            name="Mistral 7B v0.3",
            source="mistralai/Mistral-7B-v0.3",
            parameters=7_248_023_552,
            context_length=32_768,
            license="Apache-2.0",
            tokenizer="mistral-v3",
            throughput_factor=Decimal("1"),
            architecture=Architecture(32, 4096, 14_336, 4096, 1024, 32_768),
        ),
        BaseModelSpec(
            id="mistral-nemo-12b",
            name="Mistral NeMo 12B",
            source="mistralai/Mistral-Nemo-Base-2407",
            parameters=12_247_782_400,
            context_length=131_072,
            license="Apache-2.0",
            tokenizer="tekken-240718",
            throughput_factor=Decimal("0.6"),
            architecture=Architecture(40, 5120, 14_336, 4096, 1024, 131_072),
        ),
        BaseModelSpec(
            id="llama-3.1-70b",
            name="Llama 3.1 70B",
            source="meta-llama/Llama-3.1-70B",
            parameters=70_553_706_496,
            context_length=131_072,
            license="Llama 3.1 Community License",
            tokenizer="llama3",
            throughput_factor=Decimal("0.1"),
            architecture=Architecture(80, 8192, 28_672, 8192, 1024, 128_256),
        ),
    )
}

# The model an estimate or job that names none is for: the reference figures are its figures.
DEFAULT_BASE_MODEL: Final = "mistral-7b-v0.3"


def throughput_per_gpu(model: BaseModelSpec, reference_tokens_per_sec: int) -> int:
    """The model's tokens per second on one GPU whose reference (default model) figure is given: whole
    tokens, half up, so the default model's throughput is the reference figure exactly."""
    exact = model.throughput_factor * reference_tokens_per_sec
    return int(exact.to_integral_value(rounding="ROUND_HALF_UP"))

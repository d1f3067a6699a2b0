"""Which GPU setups can train a base model with LoRA at a given rank and batch size: pure arithmetic
over plain values, in whole bytes. docs/base-models.md states the rule and its sources; the page
computes the same figures from the catalog's `memory` terms (a test holds the two equal).

Per GPU of a setup of `count` GPUs (the frozen weights and the LoRA states sharded across them, as
FSDP / ZeRO-3 does; the batch split across them, data-parallel):

    weights      2 bytes x parameters                             (bf16, frozen)
    LoRA states  16 bytes x trainable parameters                  (bf16 weight and gradient, fp32
                 trainable = rank x layers x (7h + 2a + 2kv + 3i)  master copy and two Adam moments)
    activations  per sequence of SEQUENCE_LENGTH tokens:
                 tokens x (2h x layers + 34h + 4 x vocabulary)    (checkpointed layer inputs, one
                                                                   layer recomputed, fp32 logits)
    overhead     OVERHEAD_BYTES                                    (CUDA context, allocator, buffers)

    needed = ceil((weights + LoRA states) / count) + ceil(batch / count) x activations + overhead

A setup fits when `needed` is at most the GPU's memory.
"""

from decimal import Decimal
from typing import Final, NamedTuple

from pipeline.catalog.base_models import BaseModelSpec

# The training sequence the rule budgets activations for: workers split longer examples into
# sequences of at most this many tokens (the worker contract).
SEQUENCE_LENGTH: Final = 2048
OVERHEAD_BYTES: Final = 2 * 2**30
GIB: Final = 2**30

_WEIGHT_BYTES_PER_PARAMETER: Final = 2
_STATE_BYTES_PER_TRAINABLE_PARAMETER: Final = 16
# Korthikanti et al. 2022: 34 x hidden bytes per token for one layer's activations in 16-bit with
# flash attention (no sequence-squared term); with full checkpointing only each layer's 2-byte input
# stays, and one layer is recomputed at a time in the backward pass.
_LAYER_ACTIVATION_FACTOR: Final = 34
_LOGIT_BYTES: Final = 4


class MemoryTerms(NamedTuple):
    """A model's memory figures, in bytes: what the page needs to apply the rule itself."""

    weight_bytes: int
    lora_bytes_per_rank: int
    activation_bytes_per_sequence: int


def memory_terms(model: BaseModelSpec) -> MemoryTerms:
    arch = model.architecture
    # LoRA pairs on q, k, v, o, gate, up and down: each r x (inputs + outputs) parameters.
    lora_inputs_and_outputs = (
        7 * arch.hidden_size + 2 * arch.attention_size + 2 * arch.key_value_size + 3 * arch.intermediate_size
    )
    per_token = (
        2 * arch.hidden_size * arch.layers
        + _LAYER_ACTIVATION_FACTOR * arch.hidden_size
        + _LOGIT_BYTES * arch.vocabulary_size
    )
    return MemoryTerms(
        weight_bytes=_WEIGHT_BYTES_PER_PARAMETER * model.parameters,
        lora_bytes_per_rank=_STATE_BYTES_PER_TRAINABLE_PARAMETER * arch.layers * lora_inputs_and_outputs,
        activation_bytes_per_sequence=SEQUENCE_LENGTH * per_token,
    )


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


def bytes_per_gpu(terms: MemoryTerms, *, gpu_count: int, batch_size: int, rank: int) -> int:
    sharded = terms.weight_bytes + rank * terms.lora_bytes_per_rank
    micro_batch = _ceil_div(batch_size, gpu_count)
    return _ceil_div(sharded, gpu_count) + micro_batch * terms.activation_bytes_per_sequence + OVERHEAD_BYTES


def fits(terms: MemoryTerms, *, gpu_memory_gib: int, gpu_count: int, batch_size: int, rank: int) -> bool:
    return bytes_per_gpu(terms, gpu_count=gpu_count, batch_size=batch_size, rank=rank) <= gpu_memory_gib * GIB


class GpuSetup(NamedTuple):
    gpu_type: str
    gpu_count: int


def smallest_fitting_setup(
    terms: MemoryTerms,
    gpus: list[tuple[str, int, Decimal]],
    *,
    max_count: int,
    batch_size: int,
    rank: int,
) -> GpuSetup | None:
    """The setup with the least GPU memory in all that fits (the cheaper per hour on a tie), from
    `gpus` as (type, memory in GiB, price per GPU-hour); None when no setup of up to max_count fits."""
    fitting = [
        (memory_gib * count, price * count, GpuSetup(gpu_type, count))
        for gpu_type, memory_gib, price in gpus
        for count in range(1, max_count + 1)
        if fits(terms, gpu_memory_gib=memory_gib, gpu_count=count, batch_size=batch_size, rank=rank)
    ]
    if not fitting:
        return None
    return min(fitting, key=lambda candidate: (candidate[0], candidate[1]))[2]


def fewest_gpus(
    terms: MemoryTerms, *, gpu_memory_gib: int, max_count: int, batch_size: int, rank: int
) -> int | None:
    """The fewest GPUs of one type that fit (more never fit less: the shares only shrink), or None."""
    for count in range(1, max_count + 1):
        if fits(terms, gpu_memory_gib=gpu_memory_gib, gpu_count=count, batch_size=batch_size, rank=rank):
            return count
    return None

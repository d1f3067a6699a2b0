"""The base models: their figures, the throughput each trains at, and which GPU setups can hold them
(the memory rule, docs/base-models.md), with every figure computed by hand here."""

from decimal import Decimal
from typing import Any

import pytest

from functions.catalog import app as catalog_app
from pipeline.catalog import memory_fit
from pipeline.catalog.base_models import BASE_MODELS, DEFAULT_BASE_MODEL, throughput_per_gpu
from pipeline.catalog.gpu_prices import GPU_TYPES, PRICING_VERSION, run_inputs_for
from tests.api_client import invoke, load_event

GIB = 2**30
GPUS = [(gpu.id, gpu.memory_gib, gpu.price_per_gpu_hour) for gpu in GPU_TYPES.values()]


def _catalog() -> dict[str, Any]:
    response = invoke(catalog_app, load_event("catalog"))
    assert response.status == 200, response.raw_body
    data: dict[str, Any] = response.body["data"]
    return data


def test_the_catalog_lists_each_model_with_the_gpu_setups_that_fit_it_at_the_default_settings() -> None:
    data = _catalog()

    assert data["default_base_model"] == "mistral-7b-v0.3"
    assert [model["id"] for model in data["base_models"]] == [
        "llama-3.2-3b",
        "mistral-7b-v0.3",
        "mistral-nemo-12b",
        "llama-3.1-70b",
    ]
    assert data["memory_rule"] == {
        "sequence_length": 2048,
        "overhead_bytes": 2 * GIB,
        "default_batch_size": 4,
        "default_rank": 16,
    }
    nemo = next(model for model in data["base_models"] if model["id"] == "mistral-nemo-12b")
    assert nemo == {
        "id": "mistral-nemo-12b",
        "name": "Mistral NeMo 12B",
        "source": "mistralai/Mistral-Nemo-Base-2407",
        "parameters": 12_247_782_400,
        "context_length": 131_072,
        "license": "Apache-2.0",
        "tokenizer": "tekken-240718",
        "throughput_factor": 0.6,
        "memory": {
            "weight_bytes": 24_495_564_800,
            # 16 bytes x 40 layers x (7 x 5120 + 2 x 4096 + 2 x 1024 + 3 x 14336)
            "lora_bytes_per_rank": 57_016_320,
            # 2048 tokens x (2 x 5120 x 40 + 34 x 5120 + 4 x 131072)
            "activation_bytes_per_sequence": 2_269_118_464,
        },
        # Balanced (batch 4, rank 16) needs 34.1 GiB on one GPU: a V100's 32 GiB takes two.
        "gpu_setups": [
            {"type": "A100-80GB", "min_count": 1},
            {"type": "A100-40GB", "min_count": 1},
            {"type": "H100", "min_count": 1},
            {"type": "V100-32GB", "min_count": 2},
        ],
    }
    seventy = next(model for model in data["base_models"] if model["id"] == "llama-3.1-70b")
    assert seventy["gpu_setups"] == [
        {"type": "A100-80GB", "min_count": 2},
        {"type": "A100-40GB", "min_count": 4},
        {"type": "H100", "min_count": 2},
        {"type": "V100-32GB", "min_count": 6},
    ]


def test_the_default_model_trains_at_the_reference_throughputs_exactly() -> None:
    default = BASE_MODELS[DEFAULT_BASE_MODEL]

    assert {
        gpu.id: throughput_per_gpu(default, gpu.throughput_tokens_per_sec) for gpu in GPU_TYPES.values()
    } == {
        "A100-80GB": 1800,
        "A100-40GB": 1500,
        "H100": 2200,
        "V100-32GB": 1200,
    }


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("llama-3.2-3b", {"A100-80GB": 4050, "A100-40GB": 3375, "H100": 4950, "V100-32GB": 2700}),
        ("mistral-nemo-12b", {"A100-80GB": 1080, "A100-40GB": 900, "H100": 1320, "V100-32GB": 720}),
        ("llama-3.1-70b", {"A100-80GB": 180, "A100-40GB": 150, "H100": 220, "V100-32GB": 120}),
    ],
)
def test_each_model_trains_at_its_factor_of_the_reference(model: str, expected: dict[str, int]) -> None:
    spec = BASE_MODELS[model]

    assert {
        gpu.id: throughput_per_gpu(spec, gpu.throughput_tokens_per_sec) for gpu in GPU_TYPES.values()
    } == (expected)


def test_the_default_models_memory_terms_are_its_architectures() -> None:
    terms = memory_fit.memory_terms(BASE_MODELS["mistral-7b-v0.3"])

    assert terms == memory_fit.MemoryTerms(
        weight_bytes=2 * 7_248_023_552,
        lora_bytes_per_rank=16 * 32 * (7 * 4096 + 2 * 4096 + 2 * 1024 + 3 * 14336),  # 41,943,040
        activation_bytes_per_sequence=2048 * (2 * 4096 * 32 + 34 * 4096 + 4 * 32768),  # 1,090,519,040
    )


@pytest.mark.parametrize(
    ("model", "gpu", "count", "batch_size", "rank", "fits"),
    [
        # Mistral 7B on one V100: 17,314,619,392 + batch x 1,090,519,040 bytes against 34,359,738,368.
        ("mistral-7b-v0.3", "V100-32GB", 1, 15, 16, True),
        ("mistral-7b-v0.3", "V100-32GB", 1, 16, 16, False),
        # NeMo on one A100 40GB at batch 4: 35,719,522,304 + rank x 57,016,320 against 42,949,672,960.
        ("mistral-nemo-12b", "A100-40GB", 1, 4, 126, True),
        ("mistral-nemo-12b", "A100-40GB", 1, 4, 127, False),
        # NeMo at Balanced: 36,631,783,424 bytes on one GPU; on two, half the weights and states and
        # two sequences each (18,771,779,840 + 4,538,236,928 + 2 GiB).
        ("mistral-nemo-12b", "V100-32GB", 1, 4, 16, False),
        ("mistral-nemo-12b", "V100-32GB", 2, 4, 16, True),
        # Llama 3.1 70B at Balanced: two 80 GB GPUs just hold it (82,968,846,336 of 85,899,345,920);
        # four 40 GB ones too (42,564,472,832 of 42,949,672,960); three do not.
        ("llama-3.1-70b", "A100-80GB", 2, 4, 16, True),
        ("llama-3.1-70b", "A100-80GB", 1, 4, 16, False),
        ("llama-3.1-70b", "A100-40GB", 4, 4, 16, True),
        ("llama-3.1-70b", "A100-40GB", 3, 4, 16, False),
        ("llama-3.1-70b", "A100-40GB", 4, 5, 16, False),  # two sequences per GPU
    ],
)
def test_a_setup_fits_exactly_up_to_its_memory(
    model: str, gpu: str, count: int, batch_size: int, rank: int, fits: bool
) -> None:
    terms = memory_fit.memory_terms(BASE_MODELS[model])

    assert (
        memory_fit.fits(
            terms, gpu_memory_gib=GPU_TYPES[gpu].memory_gib, gpu_count=count, batch_size=batch_size, rank=rank
        )
        is fits
    )


def test_the_memory_needed_is_the_rules_sum_to_the_byte() -> None:
    terms = memory_fit.memory_terms(BASE_MODELS["llama-3.1-70b"])

    needed = memory_fit.bytes_per_gpu(terms, gpu_count=2, batch_size=4, rank=16)

    # (141,107,412,992 + 16 x 207,093,760) / 2 + 2 x 4,305,453,056 + 2 GiB
    assert needed == 72_210_456_576 + 8_610_906_112 + 2_147_483_648 == 82_968_846_336


@pytest.mark.parametrize(
    ("model", "batch_size", "rank", "smallest"),
    [
        ("mistral-nemo-12b", 4, 16, ("A100-40GB", 1)),
        ("mistral-nemo-12b", 16, 16, ("V100-32GB", 2)),  # 64 GiB in all, less than one 80 GB GPU
        # Two 80 GB GPUs and four 40 GB ones both have 160 GiB: the cheaper per hour ($7.00 < $11.20).
        ("llama-3.1-70b", 4, 16, ("A100-80GB", 2)),
        ("llama-3.2-3b", 1, 4, ("V100-32GB", 1)),
    ],
)
def test_the_smallest_setup_that_fits_has_the_least_memory_then_the_lowest_price(
    model: str, batch_size: int, rank: int, smallest: tuple[str, int]
) -> None:
    terms = memory_fit.memory_terms(BASE_MODELS[model])

    assert (
        memory_fit.smallest_fitting_setup(terms, GPUS, max_count=8, batch_size=batch_size, rank=rank)
        == smallest
    )


def test_no_setup_is_named_when_none_fits() -> None:
    terms = memory_fit.memory_terms(BASE_MODELS["llama-3.1-70b"])

    # 16 sequences on each of 8 GPUs: 68.9 GB of activations beside 21.0 GB of weights and states.
    # (Beyond the API's batch sizes: within them, some setup always fits.)
    assert memory_fit.smallest_fitting_setup(terms, GPUS, max_count=8, batch_size=128, rank=128) is None


def test_more_gpus_of_a_type_never_fit_less() -> None:
    for model in BASE_MODELS.values():
        terms = memory_fit.memory_terms(model)
        for gpu in GPU_TYPES.values():
            for batch_size in (1, 4, 16, 64):
                fitting = [
                    memory_fit.fits(
                        terms, gpu_memory_gib=gpu.memory_gib, gpu_count=count, batch_size=batch_size, rank=64
                    )
                    for count in range(1, 9)
                ]
                assert fitting == sorted(fitting), (model.id, gpu.id, batch_size)


def test_a_job_is_priced_with_its_own_versions_gpu_and_model() -> None:
    gpu, model = run_inputs_for(PRICING_VERSION, "H100", "llama-3.2-3b")

    assert (gpu.throughput_tokens_per_sec, model.throughput_factor) == (2200, Decimal("2.25"))

"""Token counts with each base model's own tokenizer, read offline from the locked wheels
(requirements-tokenizers.txt): the ids the upstream tokenizers give, for the plain text only.

Expected ids come from upstream's own tests where they have them (cited per case). The others (non-ASCII
text, text spelling special tokens, long runs) were produced by upstream's own classes, llama_models 0.3.0
llama_models.llama3.tokenizer.Tokenizer and mistral_common 1.13.1 SentencePieceTokenizer and Tekkenizer,
each with encode(text, bos=False, eos=False), in a throwaway environment with their full dependencies.
"""

import importlib.metadata
import importlib.util
import json
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

from pipeline.catalog.base_models import BASE_MODELS
from pipeline.datasets import tokenizers
from pipeline.datasets.tokenizers import TOKENIZER_IDS, UnknownTokenizer, tokenizer_for

# Each tokenizer's special (control) token ids.
SPECIAL_IDS = {
    "llama3": range(128_000, 128_256),
    "mistral-v3": range(1, 751),
    "tekken-240718": range(1000),
}


@pytest.mark.parametrize(
    ("tokenizer_id", "text", "ids"),
    [
        # llama_models 0.3.0: llama_models/llama3/tests/api/test_tokenizer.py (test_encode without its BOS
        # 128000 and EOS 128001; test_encode_dialog for the rest).
        ("llama3", "This is a test sentence.", [2028, 374, 264, 1296, 11914, 13]),
        ("llama3", "This is a response.", [2028, 374, 264, 2077, 13]),
        ("llama3", "\n\n", [271]),
        ("llama3", "assistant", [78191]),
        # github.com/mistralai/mistral-common (v1.11.7, bc022b9): tests/test_tokenize_v3.py,
        # test_continue_final_message (messages "a", "b", "c", "d", the system prompt "SYSTEM" before "c"),
        # for the SentencePiece and the Tekken v3.
        ("mistral-v3", "a", [1032]),
        ("mistral-v3", "b", [1055]),
        ("mistral-v3", "d", [1049]),
        ("mistral-v3", "SYSTEM\n\nc", [17889, 23294, 781, 781, 29485]),
        ("tekken-240718", "a", [1097]),
        ("tekken-240718", "b", [1098]),
        ("tekken-240718", "d", [1100]),
        ("tekken-240718", "SYSTEM\n\nc", [101289, 58343, 1267, 1099]),
    ],
)
def test_each_tokenizer_gives_the_ids_of_upstreams_own_tests(
    tokenizer_id: str, text: str, ids: list[int]
) -> None:
    assert tokenizer_for(tokenizer_id).encode(text) == ids


NON_ASCII = "Ünïcödé: 日本語のテキスト, عربى, हिन्दी, 🙂"


def _ids(spaced: str) -> list[int]:
    return [int(i) for i in spaced.split()]


NON_ASCII_IDS = {
    "llama3": _ids(
        "53591 77 38672 66 3029 67 978 25 105180 102158 16144 57933 62903 71634 11 113775 56157 11"
        " 85410 100556 101102 102067 28584"
    ),
    "mistral-v3": _ids(
        "13924 29479 29688 29485 15465 29565 29515 29473 29910 29887 31089 29761 30378 30521 29877"
        " 29891 29493 29473 29808 29715 29751 30359 29493 29473 30740 30322 30308 30068 30814 30503"
        " 29493 29473 30108"
    ),
    "tekken-240718": _ids(
        "39453 1110 105678 29487 1337 1058 30367 15199 2439 7282 14742 13854 1044 31995 1764 1044"
        " 109040 2063 1044 119685 1153 1130"
    ),
}


@pytest.mark.parametrize(
    ("tokenizer_id", "text", "ids"),
    [
        *((tokenizer_id, NON_ASCII, ids) for tokenizer_id, ids in NON_ASCII_IDS.items()),
        ("llama3", "Он предложил план.", [117370, 116049, 64292, 105972, 13]),
        ("mistral-v3", "Он предложил план.", [26275, 7746, 1888, 3907, 29562, 1378, 11096, 29491]),
        # " предложил" and " hesitant" are in tekken_240718.json past the vocabulary's cut (ranks 130,073 and
        # 130,074; only ranks below 130,072 are kept): Tekkenizer splits them, so must we.
        ("tekken-240718", "Он предложил план.", [93065, 44167, 10899, 31540, 1046]),
        ("tekken-240718", "She was hesitant.", [6284, 1486, 23755, 30026, 1046]),
    ],
)
def test_each_tokenizer_gives_upstreams_ids_for_non_ascii_text(
    tokenizer_id: str, text: str, ids: list[int]
) -> None:
    assert tokenizer_for(tokenizer_id).encode(text) == ids


@pytest.mark.parametrize(
    ("tokenizer_id", "text", "ids"),
    [
        (
            "llama3",
            "<|begin_of_text|>Hi<|eot_id|>",
            _ids("27 91 7413 3659 4424 91 29 13347 27 91 68 354 851 91 29"),
        ),
        (
            "mistral-v3",
            "<s>[INST] Hi [/INST]</s>",
            _ids("1291 29481 29535 29560 17057 29561 16127 1501 29516 17057 29561 1468 29481 29535"),
        ),
        (
            "tekken-240718",
            "<s>[INST] Hi [/INST]</s>",
            _ids("1060 1115 110391 3174 3074 1093 24665 1766 1047 3174 3074 103324 1115 1062"),
        ),
    ],
)
def test_text_that_spells_special_tokens_is_counted_as_the_ordinary_text_it_is(
    tokenizer_id: str, text: str, ids: list[int]
) -> None:
    tokenizer = tokenizer_for(tokenizer_id)

    assert tokenizer.encode(text) == ids
    assert tokenizer.count(text) == len(ids)
    assert not [i for i in ids if i in SPECIAL_IDS[tokenizer_id]]


MIXED = (
    'Grüße aus Köln — naïve café, 1234567 ½ ∑ 🚀🚀\ndef f(x):\n    return x ** 2  # square\n"Hello, world!"'
)


@pytest.mark.parametrize(
    ("tokenizer_id", "single_letter", "mixed"),
    [("llama3", 1, 45), ("mistral-v3", 1, 49), ("tekken-240718", 1, 48)],
)
def test_a_count_is_the_tokens_of_the_plain_text_without_bos_or_eos(
    tokenizer_id: str, single_letter: int, mixed: int
) -> None:
    tokenizer = tokenizer_for(tokenizer_id)

    assert tokenizer.count("") == 0
    assert tokenizer.count("a") == single_letter
    assert tokenizer.count(MIXED) == mixed == len(tokenizer.encode(MIXED))


LONG_RUNS = {
    "60,000 spaces": "x" + " " * 60_000 + "y z",
    "runs just over 25,000": ("q" * 26_000 + " " * 26_001 + "word ") * 3,
    "a word across 400,000": "a" * 399_990 + " hello world " + "b" * 30,
    "no-break and ideographic spaces": "a" + "\u00a0" * 30_000 + "b" + "\u3000" * 25_001,
}


@pytest.mark.parametrize(
    ("text", "counts"),
    [
        # llama3's are one more than an encoding in one piece gives (472, 39,618, 50,011, 1,723).
        (LONG_RUNS["60,000 spaces"], {"llama3": 474, "mistral-v3": 3754, "tekken-240718": 941}),
        (
            LONG_RUNS["runs just over 25,000"],
            {"llama3": 39_621, "mistral-v3": 43_882, "tekken-240718": 40_227},
        ),
        (
            LONG_RUNS["a word across 400,000"],
            {"llama3": 50_012, "mistral-v3": 50_020, "tekken-240718": 200_013},
        ),
        (
            LONG_RUNS["no-break and ideographic spaces"],
            {"llama3": 1724, "mistral-v3": 55_003, "tekken-240718": 40_004},
        ),
    ],
    ids=list(LONG_RUNS),
)
def test_llama3_encodes_long_text_in_the_slices_llama_models_cuts_and_the_mistral_tokenizers_do_not(
    text: str, counts: dict[str, int]
) -> None:
    assert {tokenizer_id: tokenizer_for(tokenizer_id).count(text) for tokenizer_id in TOKENIZER_IDS} == counts


def test_every_base_model_in_the_catalog_names_a_tokenizer_this_module_has() -> None:
    assert {model.tokenizer for model in BASE_MODELS.values()} == set(TOKENIZER_IDS)


def test_an_unknown_tokenizer_id_raises_naming_the_known_ones() -> None:
    with pytest.raises(UnknownTokenizer, match="'gpt2': known ones are llama3, mistral-v3, tekken-240718"):
        tokenizer_for("gpt2")

    assert issubclass(UnknownTokenizer, LookupError)


def test_a_tokenizer_is_loaded_once_per_process() -> None:
    assert tokenizer_for("tekken-240718") is tokenizer_for("tekken-240718")


def _refuse_network(*args: object, **kwargs: object) -> None:
    raise AssertionError("a tokenizer tried to reach the network")


@pytest.mark.parametrize("tokenizer_id", TOKENIZER_IDS)
def test_the_vocabulary_loads_with_the_network_disabled_writing_no_cache_and_importing_no_upstream_package(
    tokenizer_id: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("connect", "connect_ex", "sendto"):
        monkeypatch.setattr(socket.socket, name, _refuse_network)
    monkeypatch.setattr(socket, "getaddrinfo", _refuse_network)
    # tiktoken's loader would copy the file here; ours reads it in place.
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))

    tokenizer = tokenizer_for.__wrapped__(tokenizer_id)  # a fresh load, not the process's cached one

    assert tokenizer.count("Offline, as it must be.") > 0
    assert list(tmp_path.iterdir()) == []
    assert "llama_models" not in sys.modules
    assert "mistral_common" not in sys.modules


def test_importing_the_module_needs_neither_tiktoken_nor_sentencepiece(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # None in sys.modules makes an import of that name fail: a fresh copy of the module imports cleanly.
    monkeypatch.setitem(sys.modules, "tiktoken", None)
    monkeypatch.setitem(sys.modules, "sentencepiece", None)
    spec = importlib.util.spec_from_file_location("fresh_tokenizers", tokenizers.__file__)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)

    spec.loader.exec_module(module)

    assert module.TOKENIZER_IDS == TOKENIZER_IDS


class _FakeDistribution:
    def __init__(self, root: Path) -> None:
        self._root = root

    def locate_file(self, path: str) -> Path:
        return self._root / path


def _distribution_at(monkeypatch: pytest.MonkeyPatch, root: Path) -> None:
    monkeypatch.setattr(importlib.metadata, "distribution", lambda name: _FakeDistribution(root))


def test_a_missing_package_fails_naming_the_lock_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    def not_installed(name: str) -> Any:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", not_installed)

    with pytest.raises(
        FileNotFoundError, match=r"llama-models is not installed: .*requirements-tokenizers\.txt"
    ):
        tokenizer_for.__wrapped__("llama3")


def test_a_missing_vocabulary_file_fails_naming_the_file_and_the_lock(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _distribution_at(monkeypatch, tmp_path)

    with pytest.raises(FileNotFoundError, match=r"mistral_instruct_tokenizer_240323\.model\.v3 is missing: "):
        tokenizer_for.__wrapped__("mistral-v3")


def test_a_tekken_file_whose_ranks_are_out_of_order_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    vocab = [{"rank": 1 - i, "token_bytes": ["AA==", "AQ=="][i], "token_str": None} for i in range(2)]
    config = {"pattern": ".", "default_vocab_size": 1002, "default_num_special_tokens": 1000}
    path = tmp_path / "mistral_common" / "data" / "tekken_240718.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"config": config, "vocab": vocab}))
    _distribution_at(monkeypatch, tmp_path)

    with pytest.raises(ValueError, match="vocabulary entry 0 has rank 1"):
        tokenizer_for.__wrapped__("tekken-240718")

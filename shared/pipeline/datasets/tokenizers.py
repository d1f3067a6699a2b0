"""Token counts with each base model's own tokenizer (the catalog names it: BaseModelSpec.tokenizer).

Every vocabulary is a data file inside a locked PyPI wheel (requirements-tokenizers.txt), read from the
installed distribution's files: nothing is downloaded, and the packages that ship the files are never
imported (they would load their own dependencies, which are not installed).

- ``llama3`` (Llama 3.x): ``llama_models/llama3/tokenizer.model`` of llama-models 0.3.0, tiktoken BPE
  ranks, Llama 3 Community License. The split pattern and the chunking are llama_models' own
  (llama_models/llama3/tokenizer.py).
- ``mistral-v3`` (Mistral 7B v0.3): ``mistral_common/data/mistral_instruct_tokenizer_240323.model.v3`` of
  mistral-common 1.13.1, a SentencePiece model, Apache-2.0.
- ``tekken-240718`` (Mistral NeMo): ``mistral_common/data/tekken_240718.json`` of mistral-common 1.13.1,
  Apache-2.0, loaded as mistral_common/tokens/tokenizers/tekken.py loads it.

A count is the tokens of the plain text: no BOS/EOS, no chat template, and text that spells a special token
("<|begin_of_text|>", "[INST]", "</s>") is counted as the ordinary text it is, never as a control token.
"""

import functools
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

    import tiktoken

TOKENIZER_IDS: Final = ("llama3", "mistral-v3", "tekken-240718")
# Batches are counted on every CPU the function has (Lambda gives 2 at 3,008 MB, 6 at 10,240 MB).
_THREADS: Final = os.cpu_count() or 1

# Llama 3's pre-tokenizer pattern (llama_models 0.3.0, llama_models/llama3/tokenizer.py: pat_str).
_LLAMA3_PATTERN: Final = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
# llama_models encodes in slices (its guard against tiktoken issue 195, slow or crashing on huge pieces):
# 400,000 characters, then no run of whitespace or of non-whitespace longer than 25,000 characters. Cutting
# where it cuts keeps our ids its ids. The look-behinds start a match only where a run starts: linear.
_LLAMA3_SLICE_CHARS: Final = 400_000
_LLAMA3_MAX_RUN: Final = 25_000
_LLAMA3_LONG_RUN: Final = re.compile(
    rf"(?<!\s)\s{{{_LLAMA3_MAX_RUN + 1},}}|(?<!\S)\S{{{_LLAMA3_MAX_RUN + 1},}}"
)


class Tokenizer(Protocol):
    def encode(self, text: str) -> list[int]:
        """The token ids of the plain text (no special tokens), as the model's own tokenizer gives them."""
        ...

    def count(self, text: str) -> int:
        """How many tokens encode(text) gives."""
        ...

    def count_many(self, texts: list[str]) -> list[int]:
        """count(text) of each text, in order: one call for many, on every CPU."""
        ...


class UnknownTokenizer(LookupError):
    def __init__(self, tokenizer_id: str) -> None:
        super().__init__(f"unknown tokenizer {tokenizer_id!r}: known ones are {', '.join(TOKENIZER_IDS)}")


@functools.cache
def tokenizer_for(tokenizer_id: str) -> Tokenizer:
    """The tokenizer of that id, loaded once per process (a vocabulary takes a fraction of a second)."""
    loader = _LOADERS.get(tokenizer_id)
    if loader is None:
        raise UnknownTokenizer(tokenizer_id)
    return loader()


def _packaged_file(distribution: str, path: str) -> Path:
    import importlib.metadata  # here, like every import a load needs: importing this module costs nothing

    # Located through the installed distribution's files: importing the package would run its code.
    needed = f"the tokenizer reads {path} from the {distribution} wheel pinned in requirements-tokenizers.txt"
    try:
        located = Path(str(importlib.metadata.distribution(distribution).locate_file(path)))
    except importlib.metadata.PackageNotFoundError:
        raise FileNotFoundError(f"{distribution} is not installed: {needed} (make venv)") from None
    if not located.is_file():
        raise FileNotFoundError(f"{located} is missing: {needed} (make venv)")
    return located


class _BpeTokenizer:
    """tiktoken's byte-level BPE over plain text: no special tokens are registered with the encoding,
    so text that spells one is split like any other text."""

    def __init__(
        self, encoding: "tiktoken.Encoding", *, id_offset: int, slices: Callable[[str], Iterator[str]]
    ) -> None:
        self._encoding = encoding
        self._id_offset = id_offset  # ids below it are special tokens (Tekken puts them first)
        self._slices = slices

    def encode(self, text: str) -> list[int]:
        offset = self._id_offset
        return [
            offset + rank for piece in self._slices(text) for rank in self._encoding.encode_ordinary(piece)
        ]

    def count(self, text: str) -> int:
        return sum(len(self._encoding.encode_ordinary(piece)) for piece in self._slices(text))

    def count_many(self, texts: list[str]) -> list[int]:
        owners: list[int] = []
        pieces: list[str] = []
        for owner, text in enumerate(texts):
            for piece in self._slices(text):
                owners.append(owner)
                pieces.append(piece)
        counts = [0] * len(texts)
        for owner, length in zip(owners, _in_parallel(self._encoding.encode_ordinary, pieces), strict=True):
            counts[owner] += length
        return counts


def _in_parallel(encode: Callable[[str], list[int]], pieces: list[str]) -> list[int]:
    """len(encode(piece)) of each piece: one contiguous share of them per CPU. tiktoken encodes with the
    GIL released, so the shares run at once; its own batch call submits one task per piece, whose
    overhead costs more than the encoding of short texts."""
    if _THREADS == 1 or len(pieces) < 64:
        return [len(encode(piece)) for piece in pieces]
    share = -(-len(pieces) // _THREADS)
    shares = [pieces[start : start + share] for start in range(0, len(pieces), share)]
    counted = _pool().map(lambda part: [len(encode(piece)) for piece in part], shares)
    return [length for part in counted for length in part]


@functools.cache
def _pool() -> "ThreadPoolExecutor":
    from concurrent.futures import ThreadPoolExecutor  # lazily, with the first batch

    return ThreadPoolExecutor(max_workers=_THREADS, thread_name_prefix="tokenizer")


class _SentencePieceTokenizer:
    def __init__(self, model_file: Path) -> None:
        import sentencepiece  # lazily: a native library, loaded only when a count needs it

        # Mistral's own encode: no BOS/EOS. SentencePiece never matches a control piece ("<s>", "[INST]")
        # in input text, so such text is counted as ordinary text.
        self._processor = sentencepiece.SentencePieceProcessor(model_file=str(model_file))

    def encode(self, text: str) -> list[int]:
        ids: list[int] = self._processor.encode(text)
        return ids

    def count(self, text: str) -> int:
        return len(self.encode(text))

    def count_many(self, texts: list[str]) -> list[int]:
        # SentencePiece encodes a list on its own native threads.
        encoded: list[list[int]] = self._processor.encode(texts, num_threads=_THREADS)
        return [len(ids) for ids in encoded]


def _whole(text: str) -> Iterator[str]:
    yield text


def _llama3_slices(text: str) -> Iterator[str]:
    # llama_models' _split_whitespaces_or_nonwhitespaces, per 400,000-character slice: a run longer than
    # 25,000 characters is cut every 25,000 characters from its start.
    for start in range(0, len(text), _LLAMA3_SLICE_CHARS):
        chunk = text[start : start + _LLAMA3_SLICE_CHARS]
        cut = 0
        if _may_hold_long_run(chunk):
            for run in _LLAMA3_LONG_RUN.finditer(chunk):
                for end in range(run.start() + _LLAMA3_MAX_RUN, run.end(), _LLAMA3_MAX_RUN):
                    yield chunk[cut:end]
                    cut = end
        yield chunk[cut:]


def _may_hold_long_run(chunk: str) -> bool:
    # The regex costs half as much as the encoding; this test, in C string methods, spares it for
    # ordinary text. A run of more than 25,000 characters covers a whole 12,500-character block aligned
    # on 12,500: one block all whitespace, or without any, is necessary for a cut.
    size = _LLAMA3_MAX_RUN // 2
    for start in range(0, len(chunk) - size + 1, size):
        block = chunk[start : start + size]
        if block.isspace() or block.split(None, 1) == [block]:
            return True
    return False


def _load_llama3() -> Tokenizer:
    import base64

    import tiktoken

    path = _packaged_file("llama-models", "llama_models/llama3/tokenizer.model")
    # One "<base64 token> <rank>" per line. Parsed here rather than by tiktoken.load.load_tiktoken_bpe,
    # which copies even a local file into a cache keyed by its path ($TMPDIR/data-gym-cache) and reads that
    # copy back afterwards, even after the package behind the path has been upgraded.
    ranks: dict[bytes, int] = {}
    for line in path.read_bytes().splitlines():
        token, rank = line.split()
        ranks[base64.b64decode(token)] = int(rank)
    encoding = tiktoken.Encoding(
        name="llama3", pat_str=_LLAMA3_PATTERN, mergeable_ranks=ranks, special_tokens={}
    )
    # Ids are the ranks; the 256 special tokens come after them (128000 and up).
    return _BpeTokenizer(encoding, id_offset=0, slices=_llama3_slices)


def _load_tekken_240718() -> Tokenizer:
    import base64
    import json

    import tiktoken

    path = _packaged_file("mistral-common", "mistral_common/data/tekken_240718.json")
    model = json.loads(path.read_bytes())
    config = model["config"]
    # As Tekkenizer: the first default_num_special_tokens ids are special tokens, and the vocabulary is cut
    # to its first default_vocab_size - default_num_special_tokens entries (the file holds more).
    num_special: int = config["default_num_special_tokens"]
    vocab = model["vocab"][: config["default_vocab_size"] - num_special]
    ranks: dict[bytes, int] = {}
    for index, entry in enumerate(vocab):
        if entry["rank"] != index:
            raise ValueError(f"{path}: vocabulary entry {index} has rank {entry['rank']}")
        ranks[base64.b64decode(entry["token_bytes"])] = index
    encoding = tiktoken.Encoding(
        name="tekken-240718", pat_str=config["pattern"], mergeable_ranks=ranks, special_tokens={}
    )
    return _BpeTokenizer(encoding, id_offset=num_special, slices=_whole)


def _load_mistral_v3() -> Tokenizer:
    path = _packaged_file("mistral-common", "mistral_common/data/mistral_instruct_tokenizer_240323.model.v3")
    return _SentencePieceTokenizer(path)


_LOADERS: Final[dict[str, Callable[[], Tokenizer]]] = {
    "llama3": _load_llama3,
    "mistral-v3": _load_mistral_v3,
    "tekken-240718": _load_tekken_240718,
}

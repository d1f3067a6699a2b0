"""Validating an uploaded JSONL training file, streamed: what it holds, or why it cannot be trained on.

Pure: bytes in (any iterable of chunks), a report out; memory bounded whatever the file's size (a
line is held only up to MAX_LINE_BYTES, token statistics are histograms of counts, the hold-out's
candidates a heap of at most HOLD_OUT_MAX).

Accepted lines, one JSON object each (UTF-8; a BOM on the first line, CRLF endings and blank lines are
tolerated):

    {"messages": [{"role": "system" | "user" | "assistant", "content": "..."}, ...]}   (chat)
    {"prompt": "...", "completion": "..."}                                           (completion)

A file uses one format throughout. Every problem has a code (ERROR_CODES); a failed file reports the
first MAX_REPORTED_ERRORS with their line numbers and the total. An example's tokens are the tokens of
its texts (contents, or prompt and completion) by each base model's own tokenizer, no chat template.
"""

import hashlib
import heapq
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, NamedTuple

MAX_FILE_BYTES: Final = 1024**3  # 1 GiB: a single presigned PUT/POST, and a validation within minutes
MAX_LINES: Final = 2_000_000
MAX_LINE_BYTES: Final = 1024**2  # 1 MiB: longer than any catalog model's context holds in text
MIN_EXAMPLES: Final = 10
MAX_REPORTED_ERRORS: Final = 50
# The validation hold-out (the worker contract): the hold_out_size(examples) examples whose line (its
# bytes without the line ending) has the smallest SHA-256, the earlier line first on a tie: 5 %, at
# least 1, at most HOLD_OUT_MAX. Identical lines sort together, so copies rarely straddle the two sides.
HOLD_OUT_DIVISOR: Final = 20  # 5 %
HOLD_OUT_MAX: Final = 1000

ROLES: Final = frozenset({"system", "user", "assistant"})
_BOM: Final = b"\xef\xbb\xbf"

ERROR_CODES: Final = {
    "invalid_utf8": "The line is not UTF-8 text",
    "invalid_json": "The line is not valid JSON",
    "not_an_object": "The line is not a JSON object",
    "unknown_format": 'The object has neither "messages" nor "prompt" and "completion"',
    "mixed_formats": "The line's format differs from the file's first example",
    "unknown_key": "The object has a key the format does not define",
    "unknown_role": "A message's role is not system, user or assistant",
    "empty_content": "A text is empty",
    "not_text": "A text is not a string",
    "no_final_assistant": "The last message is not the assistant's",
    "too_long_for_every_model": "The example is longer than every base model's context",
    "line_too_long": "The line is longer than the longest line accepted",
    "too_many_lines": "The file has more lines than accepted",
    "too_large": "The file is larger than accepted",
    "too_few_examples": "The file has fewer examples than a job needs",
    "file_missing": "The uploaded file is no longer there: upload it again",
}


class LineError(NamedTuple):
    line: int  # 1-based; 0 for the file as a whole
    code: str
    message: str


class TokenStats(NamedTuple):
    total: int
    minimum: int
    median: int
    p95: int
    maximum: int
    over_context: int  # examples longer than the model's context: it cannot train on them


class ValidationReport(NamedTuple):
    ready: bool
    format: str | None  # "chat" or "completion"
    examples: int  # valid examples: training_examples + held_out
    held_out: int  # the validation hold-out (hold_out_size), chosen by the rule above
    training_examples: int
    bytes: int
    sha256: str
    lines: int
    errors: list[LineError]  # the first MAX_REPORTED_ERRORS
    error_count: int
    # By base model id, over the training examples (the hold-out's are not trained on, so not priced);
    # over_context counts every valid example. Empty when no example was read.
    tokens: dict[str, TokenStats]


class ModelCounter(NamedTuple):
    """A base model as validation needs it: its tokenizer's count of many texts, and its context."""

    count_many: Callable[[list[str]], list[int]]
    context_length: int


# Examples are counted in batches (one call per tokenizer for many texts, on every CPU): at most this
# many examples, or this many bytes of text, wait to be counted.
_BATCH_EXAMPLES: Final = 1024
_BATCH_BYTES: Final = 4 * 1024 * 1024


class _Invalid(Exception):
    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail


def _texts(example: Any, expected_format: str | None) -> tuple[str, list[str]]:
    """The example's format and texts; _Invalid naming the first problem."""
    if not isinstance(example, dict):
        raise _Invalid("not_an_object")
    if "messages" in example:
        found = "chat"
        allowed = {"messages"}
    elif "prompt" in example or "completion" in example:
        found = "completion"
        allowed = {"prompt", "completion"}
    else:
        raise _Invalid("unknown_format", f"keys: {', '.join(sorted(example)[:5]) or 'none'}")
    if expected_format is not None and found != expected_format:
        raise _Invalid("mixed_formats", f"the file's first example is {expected_format}, this one {found}")
    unknown = sorted(set(example) - allowed)
    if unknown:
        raise _Invalid("unknown_key", f"{unknown[0]!r}")
    if found == "completion":
        texts = []
        for key in ("prompt", "completion"):
            if key not in example:
                raise _Invalid("unknown_format", f"{key!r} is missing")
            texts.append(_text(example[key], key))
        return found, texts
    messages = example["messages"]
    if not isinstance(messages, list) or not messages:
        raise _Invalid("unknown_format", '"messages" must be a non-empty list')
    texts = []
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            raise _Invalid("not_an_object", where)
        extra = sorted(set(message) - {"role", "content"})
        if extra:
            raise _Invalid("unknown_key", f"{extra[0]!r} in {where}")
        role = message.get("role")
        if role not in ROLES:
            raise _Invalid("unknown_role", f"{where}.role is {json.dumps(role)[:40]}")
        texts.append(_text(message.get("content"), f"{where}.content"))
    if messages[-1]["role"] != "assistant":
        raise _Invalid("no_final_assistant", f"it is the {messages[-1]['role']}'s")
    return found, texts


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _Invalid("not_text" if value is not None else "empty_content", where)
    if not value.strip():
        raise _Invalid("empty_content", where)
    return value


def _lines(chunks: Iterable[bytes], state: "_Reading") -> Iterable[tuple[int, bytes | None]]:
    """(line number, the line without its ending) for each line; None for a line over MAX_LINE_BYTES,
    whose bytes are dropped as they come, so memory stays bounded."""
    pending = bytearray()
    number = 0
    skipping = False
    for chunk in chunks:
        state.observe(chunk)
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                if not skipping:
                    pending += chunk[start:]
                    if len(pending) > MAX_LINE_BYTES:
                        pending.clear()
                        skipping = True
                break
            number += 1
            if skipping:
                yield number, None
            else:
                pending += chunk[start:end]
                yield number, None if len(pending) > MAX_LINE_BYTES else bytes(pending)
            pending.clear()
            skipping = False
            start = end + 1
    if pending or skipping:
        number += 1
        yield number, None if skipping else bytes(pending)


class _Reading:
    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.size = 0

    def observe(self, chunk: bytes) -> None:
        self.digest.update(chunk)
        self.size += len(chunk)


class _Histogram:
    """Exact order statistics over small integers (token counts are bounded by the longest context)."""

    def __init__(self) -> None:
        self.counts: Counter[int] = Counter()
        self.n = 0
        self.total = 0

    def add(self, value: int) -> None:
        self.counts[value] += 1
        self.n += 1
        self.total += value

    def remove(self, value: int) -> None:
        self.counts[value] -= 1
        if not self.counts[value]:
            del self.counts[value]
        self.n -= 1
        self.total -= value

    def percentile(self, percent: int) -> int:
        """Nearest rank: the smallest value with at least `percent` % of the values at or below it."""
        rank = max(1, -(-percent * self.n // 100))
        seen = 0
        for value in sorted(self.counts):
            seen += self.counts[value]
            if seen >= rank:
                return value
        raise ValueError("empty histogram")


def validate(chunks: Iterable[bytes], models: Mapping[str, ModelCounter]) -> ValidationReport:
    """Read the whole file once and report on it. `models`: every catalog model, by id."""
    reading = _Reading()
    errors: list[LineError] = []
    error_count = 0

    def refuse(line: int, code: str, detail: str = "") -> None:
        # Counted examples' errors come a batch late: keep the first by line, a bounded list.
        nonlocal error_count, errors
        error_count += 1
        errors.append(LineError(line, code, ERROR_CODES[code] + (f": {detail}" if detail else "")))
        if len(errors) >= 2 * MAX_REPORTED_ERRORS:
            errors = sorted(errors, key=_by_line)[:MAX_REPORTED_ERRORS]

    file_format: str | None = None
    histograms = {model_id: _Histogram() for model_id in models}
    over_context = dict.fromkeys(models, 0)
    # Models that share a tokenizer count each text once.
    counters = {id(model.count_many): model.count_many for model in models.values()}
    longest = max(model.context_length for model in models.values())
    # The hold-out's candidates, the largest key on top: (-hash, -line, counts) for the HOLD_OUT_MAX
    # examples with the smallest (line hash, line number) so far.
    candidates: list[tuple[int, int, dict[str, int]]] = []
    examples = lines = 0
    # Examples read and not yet counted: (line, the line's bytes, its texts).
    pending: list[tuple[int, bytes, list[str]]] = []
    pending_bytes = 0

    def count_pending() -> None:
        nonlocal examples, pending_bytes
        texts = [text for _, _, example_texts in pending for text in example_texts]
        by_counter = {key: count_many(texts) for key, count_many in counters.items()}
        start = 0
        for number, raw, example_texts in pending:
            end = start + len(example_texts)
            totals = {key: sum(counted[start:end]) for key, counted in by_counter.items()}
            start = end
            counts = {model_id: totals[id(model.count_many)] for model_id, model in models.items()}
            if all(n > models[model_id].context_length for model_id, n in counts.items()):
                shortest = min(counts.values())
                refuse(number, "too_long_for_every_model", f"{shortest:,} tokens, over {longest:,}")
                continue
            examples += 1
            for model_id, n in counts.items():
                histograms[model_id].add(n)
                if n > models[model_id].context_length:
                    over_context[model_id] += 1
            entry = (-int.from_bytes(hashlib.sha256(raw).digest()), -number, counts)
            if len(candidates) < HOLD_OUT_MAX:
                heapq.heappush(candidates, entry)
            elif entry[:2] > candidates[0][:2]:  # a smaller key than the largest kept
                heapq.heapreplace(candidates, entry)
        pending.clear()
        pending_bytes = 0

    for number, raw in _lines(chunks, reading):
        lines = number
        if number > MAX_LINES or reading.size > MAX_FILE_BYTES:
            continue  # read to the end for the size and digest, refused below
        if raw is None:
            refuse(number, "line_too_long", f"over {MAX_LINE_BYTES:,} bytes")
            continue
        if number == 1 and raw.startswith(_BOM):
            raw = raw[len(_BOM) :]
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if not raw.strip():
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as bad:
            refuse(number, "invalid_utf8", f"byte {bad.start + 1}")
            continue
        try:
            example = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as bad:
            detail = f"{bad.msg} at column {bad.colno}" if isinstance(bad, json.JSONDecodeError) else ""
            refuse(number, "invalid_json", detail)
            continue
        try:
            found, texts = _texts(example, file_format)
        except _Invalid as invalid:
            refuse(number, invalid.code, invalid.detail)
            continue
        file_format = file_format or found
        pending.append((number, raw, texts))
        pending_bytes += len(raw)
        if len(pending) >= _BATCH_EXAMPLES or pending_bytes >= _BATCH_BYTES:
            count_pending()
    count_pending()
    held_out = hold_out_size(examples)
    for _, _, counts in heapq.nlargest(held_out, candidates, key=lambda entry: entry[:2]):
        for model_id, n in counts.items():
            histograms[model_id].remove(n)
    if lines > MAX_LINES:
        refuse(0, "too_many_lines", f"{lines:,} lines, over {MAX_LINES:,}")
    if reading.size > MAX_FILE_BYTES:
        refuse(0, "too_large", f"{reading.size:,} bytes, over {MAX_FILE_BYTES:,}")
    if examples < MIN_EXAMPLES and lines <= MAX_LINES and reading.size <= MAX_FILE_BYTES:
        refuse(0, "too_few_examples", f"{examples} valid, at least {MIN_EXAMPLES} needed")
    errors = sorted(errors, key=_by_line)[:MAX_REPORTED_ERRORS]

    tokens = {}
    if examples - held_out:
        for model_id, histogram in histograms.items():
            tokens[model_id] = TokenStats(
                total=histogram.total,
                minimum=min(histogram.counts),
                median=histogram.percentile(50),
                p95=histogram.percentile(95),
                maximum=max(histogram.counts),
                over_context=over_context[model_id],
            )
    return ValidationReport(
        ready=error_count == 0,
        format=file_format,
        examples=examples,
        held_out=held_out,
        training_examples=examples - held_out,
        bytes=reading.size,
        sha256=reading.digest.hexdigest(),
        lines=lines,
        errors=errors,
        error_count=error_count,
        tokens=tokens,
    )


def _by_line(error: LineError) -> int:
    return error.line  # the file's own problems (line 0) first, then by line


def hold_out_size(examples: int) -> int:
    """How many examples the worker holds out for validation: 5 %, at least 1, at most HOLD_OUT_MAX."""
    if examples == 0:
        return 0
    return min(HOLD_OUT_MAX, max(1, examples // HOLD_OUT_DIVISOR))

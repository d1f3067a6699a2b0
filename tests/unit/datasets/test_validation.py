"""Validating an uploaded JSONL file: a corpus of small files, each proving one rule, counted with the
base models' real tokenizers."""

import hashlib
import json
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest

from pipeline.catalog.base_models import BASE_MODELS
from pipeline.datasets import validation
from pipeline.datasets.tokenizers import tokenizer_for
from pipeline.datasets.validation import ERROR_CODES, LineError, ModelCounter, validate

MODELS = {
    model.id: ModelCounter(tokenizer_for(model.tokenizer).count_many, model.context_length)
    for model in BASE_MODELS.values()
}
# "a" and "b" are one token in every catalog model's vocabulary (mistral-common's and llama-models' own
# tests give their ids).
PAIR = {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}


def _file(*lines: Any, ending: bytes = b"\n") -> bytes:
    return b"".join(
        (line if isinstance(line, bytes) else json.dumps(line).encode()) + ending for line in lines
    )


def _in_chunks(data: bytes, size: int = 7) -> Iterator[bytes]:
    # Small chunks: every rule must hold wherever a chunk boundary falls.
    for start in range(0, len(data), size):
        yield data[start : start + size]


def _validate(data: bytes) -> validation.ValidationReport:
    return validate(_in_chunks(data), MODELS)


def _codes(report: validation.ValidationReport) -> list[tuple[int, str]]:
    return [(error.line, error.code) for error in report.errors]


def test_ten_chat_examples_are_ready_with_their_exact_token_counts() -> None:
    data = _file(*[PAIR] * 10)

    report = _validate(data)

    assert (report.ready, report.format, report.examples, report.held_out, report.training_examples) == (
        True,
        "chat",
        10,
        1,
        9,
    )
    assert (report.errors, report.error_count, report.lines) == ([], 0, 10)
    assert report.bytes == len(data)
    # Two tokens an example, over the 9 trained on (one is held out for validation).
    assert {model: stats.total for model, stats in report.tokens.items()} == dict.fromkeys(BASE_MODELS, 18)
    assert report.tokens["llama-3.1-70b"] == validation.TokenStats(18, 2, 2, 2, 2, 0)


def test_nine_examples_are_too_few_and_ten_are_enough() -> None:
    assert _codes(_validate(_file(*[PAIR] * 9))) == [(0, "too_few_examples")]
    assert _validate(_file(*[PAIR] * 10)).ready


def test_prompt_completion_lines_are_counted_by_each_models_tokenizer() -> None:
    # llama-models' own test: "This is a test sentence." is 6 tokens, "This is a response." 5.
    line = {"prompt": "This is a test sentence.", "completion": "This is a response."}

    report = _validate(_file(*[line] * 12))

    assert (report.ready, report.format, report.examples) == (True, "completion", 12)
    assert report.tokens["llama-3.2-3b"].total == 11 * 11  # 12 examples, 1 held out
    assert report.tokens["llama-3.2-3b"].median == 11


def test_a_bom_crlf_endings_and_blank_lines_are_tolerated() -> None:
    data = b"\xef\xbb\xbf" + _file(PAIR, b"", b"   ", *[PAIR] * 9, ending=b"\r\n")

    report = _validate(data)

    assert (report.ready, report.examples, report.lines) == (True, 10, 12)


def test_non_ascii_text_is_read_as_utf8_and_counted() -> None:
    line = {
        "messages": [{"role": "user", "content": "Он предложил план."}, {"role": "assistant", "content": "b"}]
    }

    report = _validate(_file(*[line] * 10))

    assert report.ready
    # mistral-common's Tekken: "Он предложил план." is 5 tokens; with "b", 6; 9 examples trained on.
    assert report.tokens["mistral-nemo-12b"].total == 54


@pytest.mark.parametrize(
    ("line", "code"),
    [
        (b"{not json", "invalid_json"),
        (b"[1, 2]", "not_an_object"),
        (b"\xff\xfe{}", "invalid_utf8"),
        ({"text": "hello"}, "unknown_format"),
        ({"prompt": "a", "completion": "b", "weight": 1}, "mixed_formats"),  # the file is chat
        ({"messages": PAIR["messages"], "id": 7}, "unknown_key"),
        ({"messages": [{"role": "user", "content": "a", "name": "x"}, PAIR["messages"][1]]}, "unknown_key"),
        ({"messages": [{"role": "tool", "content": "a"}, PAIR["messages"][1]]}, "unknown_role"),
        ({"messages": [{"role": "user", "content": "  "}, PAIR["messages"][1]]}, "empty_content"),
        ({"messages": [{"role": "user", "content": 5}, PAIR["messages"][1]]}, "not_text"),
        ({"messages": [PAIR["messages"][1], PAIR["messages"][0]]}, "no_final_assistant"),
        ({"messages": []}, "unknown_format"),
    ],
)
def test_each_broken_line_is_refused_with_its_code_and_line_number(line: Any, code: str) -> None:
    report = _validate(_file(*[PAIR] * 10, line, PAIR))

    assert not report.ready
    assert _codes(report) == [(11, code)]
    assert report.errors[0].message.startswith(ERROR_CODES[code])
    assert report.examples == 11


def test_a_completion_file_refuses_a_chat_line_as_mixed() -> None:
    line = {"prompt": "a", "completion": "b"}

    assert _codes(_validate(_file(*[line] * 10, PAIR))) == [(11, "mixed_formats")]


def test_an_unknown_key_in_a_completion_line_is_named() -> None:
    line = {"prompt": "a", "completion": "b"}

    report = _validate(_file(*[line] * 10, line | {"weight": 1}))

    assert report.errors == [
        LineError(11, "unknown_key", "The object has a key the format does not define: 'weight'")
    ]


def test_only_the_first_fifty_errors_are_listed_but_all_are_counted() -> None:
    report = _validate(_file(*[PAIR] * 10, *[b"{"] * 120))

    assert (report.error_count, len(report.errors)) == (120, 50)
    assert [error.line for error in report.errors] == list(range(11, 61))


def test_an_empty_file_has_too_few_examples() -> None:
    report = _validate(b"")

    assert (report.ready, report.examples, report.lines, report.tokens) == (False, 0, 0, {})
    assert _codes(report) == [(0, "too_few_examples")]


def test_a_binary_file_is_refused_line_by_line_without_reading_more_than_a_line() -> None:
    data = bytes(range(256)) * 64  # 16 KiB of every byte, newlines included

    report = _validate(data)

    assert not report.ready
    assert {code for _, code in _codes(report)} <= {"invalid_utf8", "invalid_json", "too_few_examples"}
    assert report.bytes == len(data)


def test_a_file_cut_mid_line_refuses_its_last_line() -> None:
    data = _file(*[PAIR] * 10) + json.dumps(PAIR).encode()[:20]

    assert _codes(_validate(data)) == [(11, "invalid_json")]


def test_an_example_one_token_over_the_longest_context_is_refused_and_at_it_is_accepted() -> None:
    # Contexts scaled down so the files stay small: the 32K model gets 40 tokens, the others 100. In every
    # catalog vocabulary "a" and each " a" are one token, "b" one more.
    small = {
        model_id: counter._replace(
            context_length=40 if BASE_MODELS[model_id].context_length == 32_768 else 100
        )
        for model_id, counter in MODELS.items()
    }

    def example(user_tokens: int) -> dict[str, Any]:
        content = "a" + " a" * (user_tokens - 1)
        return {"messages": [{"role": "user", "content": content}, {"role": "assistant", "content": "b"}]}

    report = validate(_in_chunks(_file(*[PAIR] * 10, example(99), example(100))), small)

    # Line 11: 100 tokens, exactly the longest context (over the 32K model's 40: a warning for it).
    # Line 12: 101 tokens, one over every context: refused.
    assert _codes(report) == [(12, "too_long_for_every_model")]
    assert report.errors[0].message.endswith("101 tokens, over 100")
    assert report.examples == 11
    assert report.tokens["mistral-7b-v0.3"].over_context == 1
    assert report.tokens["llama-3.2-3b"].over_context == 0


def test_a_line_longer_than_accepted_is_refused_and_never_held_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validation, "MAX_LINE_BYTES", 100)  # a PAIR line is 87 bytes
    long_line = {"messages": [{"role": "user", "content": "a" * 200}, {"role": "assistant", "content": "b"}]}

    report = _validate(_file(*[PAIR] * 10, long_line, PAIR))

    assert _codes(report) == [(11, "line_too_long")]
    assert report.examples == 11


def test_too_many_lines_and_too_many_bytes_are_refused_after_reading_the_whole_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(validation, "MAX_LINES", 12)
    monkeypatch.setattr(validation, "MAX_FILE_BYTES", 500)
    data = _file(*[PAIR] * 14)

    report = _validate(data)

    assert _codes(report) == [(0, "too_many_lines"), (0, "too_large")]
    assert report.bytes == len(data)


def test_the_size_and_sha256_are_the_files() -> None:
    data = _file(*[PAIR] * 10)

    report = _validate(data)

    assert (report.bytes, report.sha256) == (len(data), hashlib.sha256(data).hexdigest())


@pytest.mark.parametrize(
    ("examples", "held_out"),
    [(0, 0), (10, 1), (39, 1), (40, 2), (19_999, 999), (20_000, 1000), (10**6, 1000)],
)
def test_the_hold_out_is_five_percent_at_least_one_at_most_a_thousand(examples: int, held_out: int) -> None:
    assert validation.hold_out_size(examples) == held_out


def test_token_statistics_are_exact_order_statistics() -> None:
    lines = [
        {
            "messages": [
                {"role": "user", "content": "a" + " a" * (n - 1)},
                {"role": "assistant", "content": "b"},
            ]
        }
        for n in range(1, 21)
    ]

    data = _file(*lines)
    stats = _validate(data).tokens["mistral-7b-v0.3"]

    # The one held out: the line with the smallest SHA-256 (the worker contract's rule).
    held_out = min(range(20), key=lambda i: hashlib.sha256(data.split(b"\n")[i]).digest())
    counts = sorted(
        tokenizer_for("mistral-v3").count("a" + " a" * (n - 1)) + 1 for n in range(1, 21) if n - 1 != held_out
    )
    assert (stats.minimum, stats.median, stats.p95, stats.maximum, stats.total) == (
        counts[0],
        counts[9],  # nearest rank: the 10th of 19
        counts[18],  # the 19th of 19 (95 % of 19 is 18.05)
        counts[18],
        sum(counts),
    )


def test_the_hold_out_is_the_lines_with_the_smallest_sha256_ties_by_line() -> None:
    texts = [f"question {n}" for n in range(39)]
    lines = [
        {"messages": [{"role": "user", "content": text}, {"role": "assistant", "content": "b"}]}
        for text in texts
    ] + [{"messages": [{"role": "user", "content": texts[0]}, {"role": "assistant", "content": "b"}]}]
    data = _file(*lines)
    raw = data.split(b"\n")[:40]
    count = tokenizer_for("llama3").count

    report = _validate(data)

    assert (report.examples, report.held_out, report.training_examples) == (40, 2, 38)
    held = sorted(range(40), key=lambda i: (hashlib.sha256(raw[i]).digest(), i))[:2]
    trained = [i for i in range(40) if i not in held]
    assert report.tokens["llama-3.2-3b"].total == sum(
        count(json.loads(raw[i])["messages"][0]["content"]) + 1 for i in trained
    )


def _generated(examples: int) -> Iterator[bytes]:
    """A file of `examples` distinct chat examples, made on the fly and never held whole."""
    for start in range(0, examples, 1000):
        yield _file(
            *[
                {
                    "messages": [
                        {"role": "user", "content": f"Where is order #{n}? It was due on Monday."},
                        {"role": "assistant", "content": f"Order #{n} arrives tomorrow before noon."},
                    ]
                }
                for n in range(start, min(start + 1000, examples))
            ]
        )


def _peak_traced_bytes(examples: int) -> int:
    tracemalloc.start()
    try:
        report = validate(_generated(examples), MODELS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (report.ready, report.examples) == (True, examples)
    return peak


def test_validation_memory_does_not_grow_with_the_files_size() -> None:
    small = _peak_traced_bytes(1_500)  # about 150 kB of file
    large = _peak_traced_bytes(12_000)  # eight times as much

    # Bounded by a batch of examples and the hold-out's candidates, not by the file: eight times the file
    # adds less than half to the peak (1.8 MB against 2.2 MB here; holding the examples made it 8 times).
    assert large < small * 1.5, (small, large)

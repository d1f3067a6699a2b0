"""The demo user's dataset in `make run` is a real file: exactly what local/demo/generate.py writes,
valid throughout for every base model, a few hundred customer-support chats with some non-ASCII text."""

import json

from local.dataset_uploads import DEMO_FILE
from local.demo import generate
from pipeline.catalog.base_models import BASE_MODELS
from pipeline.datasets.tokenizers import tokenizer_for
from pipeline.datasets.validation import ModelCounter, validate


def test_the_committed_file_is_what_the_generator_writes() -> None:
    assert DEMO_FILE == generate.OUTPUT
    assert DEMO_FILE.read_text(encoding="utf-8") == "".join(f"{line}\n" for line in generate.lines())


def test_the_demo_file_validates_ready_with_every_base_models_tokenizer() -> None:
    content = DEMO_FILE.read_bytes()
    models = {
        model.id: ModelCounter(tokenizer_for(model.tokenizer).count_many, model.context_length)
        for model in BASE_MODELS.values()
    }

    report = validate([content[:100_000], content[100_000:]], models)

    assert (report.ready, report.error_count, report.format) == (True, 0, "chat")
    assert report.examples == report.lines == generate.EXAMPLES == 400
    assert report.held_out == 20  # 5 %
    assert set(report.tokens) == set(BASE_MODELS)
    assert not content.isascii()
    chats = [json.loads(line)["messages"] for line in content.decode().splitlines()]
    assert {message["role"] for chat in chats for message in chat} == {"system", "user", "assistant"}
    assert all(chat[-1]["role"] == "assistant" for chat in chats)

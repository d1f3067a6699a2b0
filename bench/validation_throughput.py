"""Dataset validation's throughput and memory (bench/run.py --only validation).

A fresh interpreter loads the base models' tokenizers, then streams a generated JSONL file of the
given size (made on the fly in pieces of about half a MiB, as S3's body is read: never held whole)
through pipeline.datasets.validation.validate. Its peak resident memory before and after the file tells
whether memory stays bounded whatever the file's size.
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

_PROBE = r"""
import json, resource, sys, time
sys.path[:0] = [sys.argv[1]]
from pipeline.catalog.base_models import BASE_MODELS
from pipeline.datasets.tokenizers import tokenizer_for
from pipeline.datasets.validation import ModelCounter, validate

started = time.perf_counter()
models = {m.id: ModelCounter(tokenizer_for(m.tokenizer).count_many, m.context_length) for m in BASE_MODELS.values()}
loaded = time.perf_counter() - started
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
size = int(sys.argv[2])
lines = [
    json.dumps({"messages": [
        {"role": "system", "content": "You are the support agent of an online shop. Answer briefly."},
        {"role": "user", "content": f"Order #{48213 + n} was due on Monday and has not arrived. Où est-il ?"},
        {"role": "assistant", "content": f"Sorry for the wait. Order #{48213 + n} left our warehouse on"
         " Friday and the courier will deliver it tomorrow before noon; tracking: 1Z999AA1 0123 4567 84."
         " 配達は明日です。"},
    ]}).encode() + b"\n"
    for n in range(1000)
]
block = b"".join(lines)

def chunks():
    sent = 0
    while sent + len(block) <= size:  # whole lines, up to `size`: the largest file a form accepts
        yield block
        sent += len(block)

started = time.perf_counter()
report = validate(chunks(), models)
seconds = time.perf_counter() - started
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({
    "bytes": report.bytes, "examples": report.examples, "errors": report.error_count,
    "seconds": seconds, "mb_per_s": report.bytes / 1e6 / seconds, "tokenizers_load_s": loaded,
    "peak_rss_mib_before": before / 1024, "peak_rss_mib_after": after / 1024,
}))
"""


def measure(megabytes: int) -> dict[str, Any]:
    """Validate a generated file of `megabytes` MiB in a fresh interpreter: its figures."""
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(REPO / "shared"), str(megabytes * 1024 * 1024)],
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures

"""Schemathesis against the running local stack, from schemas/openapi.json, authenticated as the demo user.

Bounded (a fixed number of examples per operation and a fixed seed, FUZZ_SEED to vary it): no 5xx,
every response conforms to the document (status code, content type, headers, body schema), invalid
input is refused and valid input accepted. The document's examples use the demo user's dataset, so
the success paths are fuzzed too, not only the 404s.
"""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.stack_process import REPO_ROOT, Stack, run_cli

CONFIG = Path(__file__).with_name("schemathesis.toml")


@pytest.fixture(scope="module")
def fuzzed_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack of the fuzzer's own: it creates, cancels and deletes whatever the document lets it (the demo
    user's dataset among them), which no other test may then find changed."""
    running = Stack.start(tmp_path_factory.mktemp("fuzzed-stack"), "--no-queue-consumers")
    yield running
    running.stop()


def test_fuzzing_finds_no_server_error_and_no_response_off_the_document(
    fuzzed_stack: Stack, tmp_path: Path
) -> None:
    stack = fuzzed_stack
    token = run_cli(stack.state_dir, "token").strip()  # the demo user, who owns the examples' dataset
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(CONFIG),
        "run",
        str(REPO_ROOT / "schemas" / "openapi.json"),
        "--url",
        stack.api,
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        "all",
        "--exclude-checks",
        "unsupported_method",  # see schemathesis.toml
        "--max-examples",
        "30",
        "--seed",
        os.environ.get("FUZZ_SEED", "20261128"),
        "--no-color",
    ]

    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)

    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " passed" in result.stdout

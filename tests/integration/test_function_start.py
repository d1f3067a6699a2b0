"""A function whose settings are wrong fails at its start, naming the variable."""

import os
import subprocess
import sys

from tests.paths import REPO_ROOT

ROOT = REPO_ROOT


def test_function_without_its_queue_url_fails_at_start_naming_it() -> None:
    env = {key: value for key, value in os.environ.items() if key != "JOBS_QUEUE_URL"}
    result = subprocess.run(
        [sys.executable, "-c", "import app"],
        cwd=ROOT / "functions" / "create_job",
        env=env | {"PYTHONPATH": str(ROOT / "shared")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert "ConfigurationError: environment variable JOBS_QUEUE_URL is not set" in result.stderr

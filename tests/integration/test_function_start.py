"""A function whose settings are wrong fails at its start, naming the variable."""

import os
import subprocess
import sys

import pytest

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


@pytest.mark.parametrize("function", ["create_dataset", "delete_dataset", "dataset_validator"])
def test_a_dataset_function_without_its_bucket_fails_at_start_naming_it(function: str) -> None:
    env = {key: value for key, value in os.environ.items() if key != "DATASETS_BUCKET"}
    result = subprocess.run(
        [sys.executable, "-c", "import app"],
        cwd=ROOT / "functions" / function,
        env=env | {"PYTHONPATH": str(ROOT / "shared"), "AWS_REGION": "us-east-1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert "ConfigurationError: environment variable DATASETS_BUCKET is not set" in result.stderr

"""The read functions must not import boto3, even indirectly (it costs ~100 ms of cold start); the writers
that send a message right after commit (create_job to SQS, cancel_job to SNS) do, and are SnapStart
functions, whose snapshot holds the import, as do the functions that sign S3 requests (job_download,
create_dataset). Only the dataset validator loads the tokenizers.

Each check runs a fresh interpreter laid out as Lambda lays it out: the function's folder and the layer
on the path, `import app`, with Lambda's environment variables so Powertools' Tracer is active.
"""

import json
import os
import subprocess
import sys
import time

import pytest

from tests.paths import REPO_ROOT

ROOT = REPO_ROOT

PROBE = """
import json, sys
import app
print(json.dumps({"boto3": "boto3" in sys.modules, "handler": callable(app.lambda_handler)}))
"""
TOKENIZER_MODULES = ("tiktoken", "sentencepiece", "pipeline.datasets.tokenizers")


def _import_in_fresh_lambda_like_interpreter(function: str, **extra: str) -> dict[str, bool]:
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT / "shared"),
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "AWS_REGION": "us-east-1",
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
        "JOBS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/jobs",
        "PAGINATION_CURSOR_SECRET": "x" * 48,
    } | extra
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT / "functions" / function,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "function",
    [
        "estimate",
        "list_jobs",
        "get_job",
        "get_dataset",
        "job_events",
        "job_metrics",
        "job_checkpoints",
        "catalog",
        "create_webhook",
        "list_webhooks",
        "delete_webhook",
        "rotate_webhook_secret",
        "list_webhook_deliveries",
        "get_account_limits",
        "put_account_limits",
        "account_usage",
        "list_datasets",
    ],
)
def test_read_and_estimate_functions_do_not_import_boto3(function: str) -> None:
    assert _import_in_fresh_lambda_like_interpreter(function) == {"boto3": False, "handler": True}


@pytest.mark.parametrize(
    "function",
    ["estimate", "list_jobs", "get_job", "get_dataset", "list_datasets", "job_events", "job_metrics"],
)
def test_credentials_from_secrets_manager_do_not_import_boto3_either(function: str) -> None:
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:pipeline/app-AbCdEf"
    env = {"DATABASE_URL": "", "DATABASE_SECRET_ARN": arn}

    assert _import_in_fresh_lambda_like_interpreter(function, **env) == {"boto3": False, "handler": True}


def test_create_job_imports_boto3_so_the_check_can_see_it() -> None:
    assert _import_in_fresh_lambda_like_interpreter("create_job") == {"boto3": True, "handler": True}


def test_job_download_imports_boto3_for_its_s3_presigner() -> None:
    bucket = {"ARTIFACTS_BUCKET": "pipeline-artifacts"}
    assert _import_in_fresh_lambda_like_interpreter("job_download", **bucket) == {
        "boto3": True,
        "handler": True,
    }


def test_cancel_job_imports_boto3_for_its_control_topic_client() -> None:
    topic = {"WORKER_CONTROL_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:pipeline-worker-control"}
    assert _import_in_fresh_lambda_like_interpreter("cancel_job", **topic) == {"boto3": True, "handler": True}


@pytest.mark.parametrize("function", ["create_dataset", "delete_dataset"])
def test_the_dataset_writers_import_boto3_for_their_s3_client_and_no_tokenizer(function: str) -> None:
    # create_dataset signs upload forms, delete_dataset deletes the file: both SnapStart functions.
    bucket = {"DATASETS_BUCKET": "pipeline-datasets-local"}
    assert _import_in_fresh_lambda_like_interpreter(function, **bucket) == {"boto3": True, "handler": True}
    loaded = _modules_after_import(function, **bucket)
    assert not loaded & set(TOKENIZER_MODULES)


def test_the_dataset_validator_loads_every_tokenizer_at_init_from_its_layers_packages() -> None:
    started = time.perf_counter()
    loaded = _modules_after_import("dataset_validator", DATASETS_BUCKET="pipeline-datasets-local")
    seconds = time.perf_counter() - started

    # Loaded during init, so no invocation pays for them (about a second, measured here).
    assert {"boto3", *TOKENIZER_MODULES} <= loaded
    assert seconds < 30


def _modules_after_import(function: str, **extra: str) -> set[str]:
    probe = "import json, sys\nimport app\nprint(json.dumps(sorted(sys.modules)))"
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT / "shared"),
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "AWS_REGION": "us-east-1",
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
    } | extra
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT / "functions" / function,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return set(json.loads(result.stdout.strip().splitlines()[-1]))

"""A dataset uploaded end to end on the local stack, as the page uploads one: POST /datasets, a real
multipart POST of the file to the presigned form (moto's S3), S3's ObjectCreated:Post notification to
the dataset uploads queue, DatasetValidatorFunction from that queue, GET /datasets/{id} ready (or
failed, errors by line); then estimate, create, and the simulated GPU worker reads the very file the
assignment names and says so in its adapter stand-in. Nothing reaches AWS."""

import hashlib
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from local import auth_tokens
from local.dataset_uploads import DEMO_FILE
from local.sqs_server import DATASETS_BUCKET
from local.stack_process import REPO_ROOT, Stack, http, run_cli, stack_env

BAD_FILE = (
    b'{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}\n'
    b"not json\n"
    b'{"messages": [{"role": "user", "content": "Only a question?"}]}\n'
    b'{"prompt": "A completion", "completion": "in a chat file"}\n'
)


@pytest.fixture(scope="module")
def uploads_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """`make run` as a person starts it: queue consumers and the simulated worker, the worker fast."""
    running = Stack.start(tmp_path_factory.mktemp("uploads-stack"), "--worker-speed", "3000")
    yield running
    running.stop()


def _token(stack: Stack, user: str) -> str:
    return run_cli(stack.state_dir, "token", "--user", user).strip()


def _create(stack: Stack, token: str, name: str) -> dict[str, Any]:
    created = http("POST", f"{stack.api}/datasets", token=token, body={"name": name})
    assert created.status == 201, created.body
    data: dict[str, Any] = created.body["data"]
    return data


def _post_form(upload: dict[str, Any], content: bytes, filename: str = "data.jsonl") -> httpx.Response:
    """What a browser sends for the form: multipart/form-data, the form's fields, the file last."""
    assert upload["method"] == "POST"
    return httpx.post(
        upload["url"],
        data=upload["fields"],
        files={"file": (filename, content, "application/x-ndjson")},
        timeout=60,
    )


def _validated(stack: Stack, token: str, dataset_id: str, timeout_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        dataset: dict[str, Any] = http("GET", f"{stack.api}/datasets/{dataset_id}", token=token).body["data"]
        if dataset["status"] in ("ready", "failed") or time.monotonic() > deadline:
            return dataset
        time.sleep(0.2)


def _job_to_its_end(stack: Stack, token: str, dataset_id: str, timeout_s: float = 60) -> dict[str, Any]:
    body = {
        "dataset_id": dataset_id,
        "base_model": "mistral-7b-v0.3",
        "gpu_config": {"type": "A100-80GB", "count": 1},
        "hyperparameters": {"batch_size": 8, "epochs": 1, "learning_rate": 0.0001, "rank": 8},
    }
    estimate = http("POST", f"{stack.api}/jobs/estimate", token=token, body=body)
    assert estimate.status == 200, estimate.body
    cost = estimate.body["data"]["estimated_cost"]
    created = http(
        "POST", f"{stack.api}/jobs", token=token, body=body | {"preset_id": "fast", "estimated_cost": cost}
    )
    assert created.status == 201, created.body
    job_url = f"{stack.api}/jobs/{created.body['data']['id']}"
    deadline = time.monotonic() + timeout_s
    while True:
        job: dict[str, Any] = http("GET", job_url, token=token).body["data"]
        if job["status"] in ("completed", "failed", "cancelled") or time.monotonic() > deadline:
            return job
        time.sleep(0.2)


def _s3(stack: Stack) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=stack.sqs,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def test_an_uploaded_file_is_validated_trained_on_and_read_by_the_worker(uploads_stack: Stack) -> None:
    stack, token = uploads_stack, _token(uploads_stack, "uma")
    content = DEMO_FILE.read_bytes()

    created = _create(stack, token, "Support chats (upload test)")
    dataset, upload = created["dataset"], created["upload"]
    assert dataset["status"] == "uploading"
    key = upload["fields"]["key"]
    assert key == f"users/{auth_tokens.user_id_for('uma')}/datasets/{dataset['id']}/source.jsonl"
    assert upload["url"] == f"{stack.sqs}/{DATASETS_BUCKET}"  # the local S3: nothing goes to AWS
    posted = _post_form(upload, content)
    assert posted.status_code == 204, posted.text  # S3's answer to a form without success_action_status

    validated = _validated(stack, token, dataset["id"])
    assert (validated["status"], validated["ready_for_training"], validated["error_count"]) == (
        "ready",
        True,
        0,
    )
    assert (validated["sha256"], validated["size_bytes"]) == (
        hashlib.sha256(content).hexdigest(),
        len(content),
    )
    assert (validated["examples"], validated["held_out"], validated["total_training_pairs"]) == (400, 20, 380)
    assert set(validated["token_counts"]) == {
        "llama-3.2-3b",
        "mistral-7b-v0.3",
        "mistral-nemo-12b",
        "llama-3.1-70b",
    }
    # S3's notification of the form's POST reached the queue, whose consumer validated it.
    assert any(f"ObjectCreated:Post {key} ({len(content)} bytes)" in line for line in stack.stderr)
    listed = http("GET", f"{stack.api}/datasets", token=token).body["data"]["datasets"]
    assert [d["id"] for d in listed] == [dataset["id"]]

    job = _job_to_its_end(stack, token, dataset["id"])
    assert job["status"] == "completed", job
    download = http("GET", f"{stack.api}/jobs/{job['id']}/download", token=token)
    assert download.status == 200, download.body
    with urllib.request.urlopen(download.body["data"]["url"], timeout=10) as adapter:  # noqa: S310 - loopback
        stand_in = adapter.read().decode()
    assert f"Trained on 400 lines of s3://{DATASETS_BUCKET}/{key}" in stand_in
    assert "20 held out" in stand_in


def test_a_bad_file_fails_validation_with_its_errors_by_line(uploads_stack: Stack) -> None:
    stack, token = uploads_stack, _token(uploads_stack, "victor")
    created = _create(stack, token, "Broken")
    assert _post_form(created["upload"], BAD_FILE).status_code == 204

    failed = _validated(stack, token, created["dataset"]["id"])

    assert (failed["status"], failed["ready_for_training"]) == ("failed", False)
    assert sorted((e["line"], e["code"]) for e in failed["errors"]) == [
        (0, "too_few_examples"),  # the file as a whole
        (2, "invalid_json"),
        (3, "no_final_assistant"),
        (4, "mixed_formats"),
    ]
    assert failed["error_count"] == 4


def test_a_file_gone_from_the_bucket_fails_its_job_as_dataset_unreadable(uploads_stack: Stack) -> None:
    stack, token = uploads_stack, _token(uploads_stack, "wanda")
    created = _create(stack, token, "Soon gone")
    assert _post_form(created["upload"], DEMO_FILE.read_bytes()).status_code == 204
    assert _validated(stack, token, created["dataset"]["id"])["status"] == "ready"
    # As after a restart of the local stack (its S3 keeps nothing), or a file deleted behind its back.
    _s3(stack).delete_object(Bucket=DATASETS_BUCKET, Key=created["upload"]["fields"]["key"])

    job = _job_to_its_end(stack, token, created["dataset"]["id"])

    assert job["status"] == "failed", job
    assert job["error"]["code"] == "dataset_unreadable"
    assert "NoSuchKey" in job["error"]["message"]


@pytest.mark.xfail(
    strict=True,
    reason="moto (5.2.5, and its main branch) does not enforce a POST form's policy conditions: its"
    " content-length-range (1 byte to 1 GiB here) is not checked, so an empty file is stored. S3 refuses"
    " it itself; the form's conditions are tested where it is signed, not here.",
)
def test_s3_refuses_a_file_outside_the_forms_size_range(uploads_stack: Stack) -> None:
    stack, token = uploads_stack, _token(uploads_stack, "xavier")
    created = _create(stack, token, "Empty")

    answer = _post_form(created["upload"], b"")

    assert answer.status_code == 400
    assert "EntityTooSmall" in answer.text


def test_make_dataset_uploads_a_file_and_prints_its_id_alone(uploads_stack: Stack, tmp_path: Path) -> None:
    stack = uploads_stack
    env = {k: v for k, v in stack_env(stack.state_dir).items() if k != "MAKEFLAGS"} | {
        "PORT": str(stack.port)
    }
    data = tmp_path / "support.jsonl"
    data.write_bytes(DEMO_FILE.read_bytes())

    result = subprocess.run(
        ["make", "-s", "dataset", f"FILE={data}", "USER=yara", "NAME=Yara's chats"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    dataset_id = result.stdout.strip()
    assert result.stdout == f"{dataset_id}\n"  # stdout: the id, nothing else
    assert "ready: 400 examples, 20 held out" in result.stderr
    assert f"page: {stack.api}/training/configure?datasetId={dataset_id}" in result.stderr
    answer = http("GET", f"{stack.api}/datasets/{dataset_id}", token=_token(stack, "yara")).body["data"]
    assert (answer["name"], answer["status"]) == ("Yara's chats", "ready")


def test_make_dataset_of_a_bad_file_says_what_is_wrong_by_line_and_fails(
    uploads_stack: Stack, tmp_path: Path
) -> None:
    stack = uploads_stack
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(BAD_FILE)

    result = subprocess.run(
        [sys.executable, "-m", "local", "dataset", "--user", "zed", "--file", str(bad)],
        cwd=REPO_ROOT,
        env=stack_env(stack.state_dir) | {"PORT": str(stack.port)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 1
    assert "failed: 4 problem(s)" in result.stderr
    assert "line 2: invalid_json" in result.stderr
    assert "the file: too_few_examples" in result.stderr


def test_make_dataset_without_a_running_stack_says_so(tmp_path: Path) -> None:
    data = tmp_path / "data.jsonl"
    data.write_bytes(DEMO_FILE.read_bytes())
    env = {k: v for k, v in os.environ.items() if k != "MAKEFLAGS"} | {
        "PIPELINE_STATE_DIR": str(tmp_path / "state"),
        "PORT": "9",  # the discard port: nothing listens
    }

    result = subprocess.run(
        [sys.executable, "-m", "local", "dataset", "--file", str(data)],
        cwd=REPO_ROOT,
        env=env | {"PYTHONPATH": f"{REPO_ROOT / 'shared'}:{REPO_ROOT}"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 2
    assert "is `make run` running" in result.stderr
    assert result.stdout == ""

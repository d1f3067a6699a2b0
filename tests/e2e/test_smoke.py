"""deploy/smoke.py against the running local stack: passes when the API works, says what failed when not."""

import subprocess
import sys

from local.stack_process import REPO_ROOT, Stack, run_cli


def _smoke(stack: Stack, token: str, dataset_id: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "deploy.smoke",
            "--api-url",
            stack.api,
            "--token",
            token,
            "--dataset-id",
            dataset_id,
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_smoke_test_passes_against_a_working_api(stack: Stack, alice: dict[str, str]) -> None:
    result = _smoke(stack, alice["token"], alice["dataset_id"])

    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[:2] for line in lines[:4]] == [
        ["ok", "estimate"],
        ["ok", "create"],
        ["ok", "list"],
        ["ok", "get"],
    ]
    assert lines[-1] == "smoke test passed"


def test_smoke_test_says_the_token_was_refused(stack: Stack, alice: dict[str, str]) -> None:
    result = _smoke(stack, "not-a-token", alice["dataset_id"])

    assert result.returncode == 1
    assert "FAIL estimate  estimate: 401 - the token was refused" in result.stdout
    assert result.stdout.splitlines()[-1] == "smoke test FAILED"


def test_smoke_test_says_which_step_failed(stack: Stack) -> None:
    # A user with a dataset that is still processing: estimate works, create is refused.
    token = run_cli(stack.state_dir, "token", "--user", "erin").strip()
    dataset_id = run_cli(
        stack.state_dir,
        "dataset",
        "--user",
        "erin",
        "--pairs",
        "100",
        "--tokens",
        "20000",
        "--status",
        "processing",
        "--ready",
        "false",
    ).strip()

    result = _smoke(stack, token, dataset_id)

    assert result.returncode == 1
    assert result.stdout.splitlines()[0].startswith("ok   estimate")
    assert "FAIL create    create: expected 201, got 400" in result.stdout
    assert "Dataset not ready for training" in result.stdout


def test_smoke_test_says_when_the_api_is_unreachable(alice: dict[str, str]) -> None:
    unreachable = Stack.__new__(Stack)
    unreachable.port = 9  # nothing listens on the discard port here
    result = _smoke(unreachable, alice["token"], alice["dataset_id"])

    assert result.returncode == 1
    assert "could not reach http://127.0.0.1:9" in result.stdout

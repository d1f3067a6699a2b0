"""Start `python -m local run` as a user would (a subprocess, free ports, its own state folder)."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
# The API test suite configures this process for moto and a test database; the stack must not inherit that.
_SCRUBBED = (
    "DATABASE_URL",
    "JOBS_QUEUE_URL",
    "AWS_ENDPOINT_URL",
    "AWS_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stack_env(state_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in _SCRUBBED}
    return env | {"PIPELINE_STATE_DIR": str(state_dir), "PYTHONPATH": f"{REPO_ROOT / 'shared'}:{REPO_ROOT}"}


def run_cli(state_dir: Path, *args: str) -> str:
    """`python -m local <args>` against the same state folder; its stdout."""
    result = subprocess.run(
        [sys.executable, "-m", "local", *args],
        env=stack_env(state_dir),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


@dataclass
class HttpResult:
    status: int
    headers: dict[str, str]
    body: Any


def http(
    method: str, url: str, *, token: str | None = None, body: Any = None, raw_token: str | None = None
) -> HttpResult:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if raw_token is not None:
        headers["Authorization"] = raw_token
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            return HttpResult(response.status, dict(response.headers), json.loads(response.read() or b"null"))
    except urllib.error.HTTPError as error:
        return HttpResult(error.code, dict(error.headers), json.loads(error.read() or b"null"))


def sqs_call(endpoint: str, action: str, payload: dict[str, Any]) -> dict[str, Any]:
    """One SQS JSON-protocol call over plain HTTP (moto server does not check signatures)."""
    request = urllib.request.Request(  # noqa: S310 - loopback
        endpoint,
        data=json.dumps(payload).encode(),
        method="POST",
        headers={
            "X-Amz-Target": f"AmazonSQS.{action}",
            "Content-Type": "application/x-amz-json-1.0",
            # moto routes by the credential scope's service name; the signature itself is not checked.
            "Authorization": "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/sqs/aws4_request, "
            "SignedHeaders=host, Signature=0",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        return json.loads(response.read() or b"{}")  # type: ignore[no-any-return]


@dataclass
class Stack:
    state_dir: Path
    port: int
    sqs_port: int
    process: subprocess.Popen[str]
    stdout: list[str] = field(default_factory=list)

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def sqs(self) -> str:
        return f"http://127.0.0.1:{self.sqs_port}"

    @classmethod
    def start(cls, state_dir: Path, *extra_args: str, timeout_s: float = 90) -> "Stack":
        port, sqs_port = free_port(), free_port()
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "local",
                "run",
                "--port",
                str(port),
                "--sqs-port",
                str(sqs_port),
                *extra_args,
            ],
            env=stack_env(state_dir),
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        stack = cls(state_dir, port, sqs_port, process)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"stack exited early:\n{process.stderr.read() if process.stderr else ''}")
            try:
                if http("GET", f"{stack.api}/healthz").status == 200:
                    stack._read_banner()
                    return stack
            except OSError:
                time.sleep(0.2)
        stack.stop()
        raise TimeoutError("the stack did not answer /healthz in time")

    def _read_banner(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.stdout.append(line.rstrip("\n"))
            if line.startswith("Ctrl-C stops everything."):
                return

    def stop(self, timeout_s: float = 30) -> tuple[int, str]:
        """Ctrl-C, as a person stops it; the exit code and what it logged."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            _, stderr = self.process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, stderr = self.process.communicate()
        return self.process.returncode, stderr

"""Start `python -m local run` as a user would (a subprocess, free ports, its own state folder)."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

REPO_ROOT = Path(__file__).resolve().parents[1]
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
    stderr: list[str] = field(default_factory=list)
    _drains: list[threading.Thread] = field(default_factory=list)

    def _drain(self, stream: IO[str] | None, into: list[str]) -> None:
        """Keep reading the stack's output: a full pipe would block its logging, and with it every request."""

        def read() -> None:
            assert stream is not None
            for line in stream:
                into.append(line.rstrip("\n"))

        thread = threading.Thread(target=read, daemon=True)
        thread.start()
        self._drains.append(thread)

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def sqs(self) -> str:
        return f"http://127.0.0.1:{self.sqs_port}"

    @property
    def owner_database_url(self) -> str:
        """The embedded PostgreSQL as its owner, over its socket in the state folder."""
        return f"postgresql://postgres@/postgres?host={self.state_dir / 'pgdata'}"

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
        stack._drain(process.stdout, stack.stdout)
        stack._drain(process.stderr, stack.stderr)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if process.poll() is not None:
                for thread in stack._drains:
                    thread.join(timeout=5)
                raise RuntimeError("stack exited early:\n" + "\n".join(stack.stderr))
            try:
                if http("GET", f"{stack.api}/healthz").status == 200:
                    stack._wait_for_banner(deadline)
                    return stack
            except OSError:
                time.sleep(0.2)
        stack.stop()
        raise TimeoutError("the stack did not answer /healthz in time")

    def _wait_for_banner(self, deadline: float) -> None:
        while not any(line.startswith("Ctrl-C stops everything.") for line in self.stdout):
            if time.monotonic() > deadline:
                raise TimeoutError("the stack printed no banner")
            time.sleep(0.05)

    def stop(self, timeout_s: float = 30) -> tuple[int, str]:
        """Ctrl-C, as a person stops it; the exit code and what it logged."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for thread in self._drains:
            thread.join(timeout=5)
        return self.process.returncode, "\n".join(self.stderr)

"""With tracing on (as deployed), a request's trace segment names the handler and carries no user data.

A fresh interpreter with Lambda's variables (so Powertools' Tracer and the X-Ray SDK take their Lambda
paths) answers a real request; the X-Ray daemon address points at a UDP socket here, which receives
exactly what would be sent to X-Ray.
"""

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from uuid import uuid4

import psycopg
import pytest
from psycopg.rows import DictRow

from tests.api_client import build_event
from tests.factories import insert_dataset, insert_job
from tests.paths import REPO_ROOT

ROOT = REPO_ROOT

PROBE = """
import json, sys
import app
class Context:
    function_name = "get_job"; memory_limit_in_mb = 512; aws_request_id = "trace-test"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:get_job"
    def get_remaining_time_in_millis(self): return 10000
response = app.lambda_handler(json.load(sys.stdin), Context())
print(json.dumps({"status": response["statusCode"], "body": response["body"]}))
"""


@pytest.fixture
def xray_daemon() -> Iterator[socket.socket]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as daemon:
        daemon.bind(("127.0.0.1", 0))
        daemon.settimeout(0.5)
        yield daemon


def _received(daemon: socket.socket) -> list[str]:
    """The datagrams sent: each a header line, then one segment's JSON."""
    datagrams = []
    try:
        while True:
            datagrams.append(daemon.recv(65536).decode())
    except TimeoutError:
        return datagrams


def test_a_traced_request_sends_its_segment_without_the_response(
    db: psycopg.Connection[DictRow], xray_daemon: socket.socket
) -> None:
    user = uuid4()
    dataset = insert_dataset(db, user_id=user, name="Private dataset name 7f3a")
    job = insert_job(db, user_id=user, dataset_id=dataset)
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT / "shared"),
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "AWS_REGION": "us-east-1",
        "LAMBDA_TASK_ROOT": str(ROOT / "functions" / "get_job"),
        "AWS_LAMBDA_FUNCTION_NAME": "get_job",
        "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{xray_daemon.getsockname()[1]}",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "_X_AMZN_TRACE_ID": "Root=1-67a0b1c2-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=1",
    }

    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        input=json.dumps(build_event("get_job", sub=user, path=f"/jobs/{job}")),
        cwd=ROOT / "functions" / "get_job",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    answered = json.loads(result.stdout.strip().splitlines()[-1])
    datagrams = _received(xray_daemon)
    segments = [json.loads(datagram.split("\n", 1)[1]) for datagram in datagrams]

    assert answered["status"] == 200
    assert "Private dataset name 7f3a" in answered["body"]
    [handler] = [segment for segment in segments if segment["name"] == "## lambda_handler"]
    assert handler["annotations"]["ColdStart"] is True
    assert handler["trace_id"] == "1-67a0b1c2-0123456789abcdef01234567"
    assert all("Private dataset name 7f3a" not in d and str(job) not in d for d in datagrams)

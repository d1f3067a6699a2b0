"""Lambda SnapStart: the runtime hooks each function registers, run as the runtime runs them, and priming.

The runtime runs the before-snapshot hooks in reverse order of registration, then snapshots; in a
restored environment it runs the after-restore hooks in order of registration (snapshot_restore_py's
registries, which the managed runtime reads). Every function module imported in this test session has
registered its hooks, as it would in its own environment.
"""

import json
import random
import subprocess
import sys
import time
from typing import Any

import boto3
import psycopg
import pytest
import snapshot_restore_py
from psycopg.rows import DictRow

from functions.create_job import app as create_job_app
from functions.get_job import app as get_job_app
from pipeline.aws.secrets import DatabaseSecret
from tests.api_client import build_event, invoke
from tests.factories import (
    EVENT_DATASET_ID,
    EVENT_JOB_ID,
    EVENT_USER_ID,
    EVENT_WEBHOOK_ID,
    insert_dataset,
    insert_job,
    insert_webhook,
)
from tests.paths import REPO_ROOT

ROOT = REPO_ROOT
APPLICATION = "pipeline-training-jobs"  # the functions' application_name on their connections


def _registered(registry: list[Any]) -> list[tuple[Any, tuple[Any, ...], dict[str, Any]]]:
    # The library's annotation says callables; what it stores is (callable, args, kwargs).
    return list(registry)


def _before_snapshot() -> None:
    for hook, args, kwargs in reversed(_registered(snapshot_restore_py.get_before_snapshot())):
        hook(*args, **kwargs)


def _after_restore() -> None:
    for hook, args, kwargs in _registered(snapshot_restore_py.get_after_restore()):
        hook(*args, **kwargs)


def _function_connections(db: psycopg.Connection[DictRow]) -> list[int]:
    rows = db.execute(
        "select pid from pg_stat_activity where application_name = %s and datname = current_database()",
        (APPLICATION,),
    ).fetchall()
    return [row["pid"] for row in rows]


def _functions_backends() -> dict[str, int]:
    """The PostgreSQL backend of every function module's open connection (this session imported them
    all, as their own environments would)."""
    backends = {}
    for name, module in sys.modules.items():
        database = getattr(module, "database", None) if name.startswith("functions.") else None
        connection = getattr(database, "_connection", None)
        if connection is not None and not connection.closed:
            backends[name] = connection.info.backend_pid
    return backends


def test_after_the_before_snapshot_hooks_no_connection_to_postgresql_is_open(
    db: psycopg.Connection[DictRow],
) -> None:
    insert_dataset(db, user_id=EVENT_USER_ID, dataset_id=EVENT_DATASET_ID)
    insert_job(db, user_id=EVENT_USER_ID, dataset_id=EVENT_DATASET_ID, job_id=EVENT_JOB_ID)
    assert invoke(get_job_app, build_event("get_job")).status == 200
    assert invoke(create_job_app, build_event("create_job")).status == 201
    backends = _functions_backends()
    assert {"functions.get_job.app", "functions.create_job.app"} <= set(backends)

    _before_snapshot()

    assert _functions_backends() == {}
    deadline = time.monotonic() + 5  # a backend exits just after its client closed the connection
    while set(_function_connections(db)) & set(backends.values()) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert set(_function_connections(db)) & set(backends.values()) == set()


def test_the_first_request_after_a_restore_succeeds_on_a_fresh_connection(
    db: psycopg.Connection[DictRow],
) -> None:
    insert_dataset(db, user_id=EVENT_USER_ID, dataset_id=EVENT_DATASET_ID)
    insert_job(db, user_id=EVENT_USER_ID, dataset_id=EVENT_DATASET_ID, job_id=EVENT_JOB_ID)
    assert invoke(get_job_app, build_event("get_job")).status == 200
    connection = get_job_app.database._connection
    assert connection is not None
    before = connection.info.backend_pid

    _before_snapshot()
    _after_restore()
    response = invoke(get_job_app, build_event("get_job"))

    assert response.status == 200
    assert response.body["data"]["id"] == str(EVENT_JOB_ID)
    fresh = get_job_app.database._connection
    assert fresh is not None
    assert fresh.info.backend_pid != before
    assert before not in _function_connections(db)


def test_create_job_sends_to_the_queue_after_a_restore(
    db: psycopg.Connection[DictRow], sqs_queue: Any
) -> None:
    insert_dataset(db, user_id=EVENT_USER_ID, dataset_id=EVENT_DATASET_ID)
    _before_snapshot()  # closes the SQS client's pooled connections
    _after_restore()

    response = invoke(create_job_app, build_event("create_job"))

    assert response.status == 201, response.body
    assert [json.loads(m["Body"])["job_id"] for m in sqs_queue.receive_all()] == [response.body["data"]["id"]]


def test_each_restored_environment_draws_its_own_random_numbers() -> None:
    random.seed(42)  # the generator's state as the snapshot froze it
    snapshot_state = random.getstate()
    frozen_draw = random.random()

    random.setstate(snapshot_state)
    _after_restore()

    assert random.random() != frozen_draw


def test_the_database_secret_is_forgotten_before_the_snapshot_and_fetched_again_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fetched: list[str] = []
    secret = DatabaseSecret("arn:aws:secretsmanager:us-east-1:123456789012:secret:db")

    def from_secrets_manager() -> str:
        fetched.append("x")
        return '{"url": "postgresql://a@b/c"}'

    monkeypatch.setattr(secret, "_secret_string", from_secrets_manager)
    secret.database_url()
    secret.database_url()
    secret.forget()
    secret.database_url()
    assert fetched == ["x", "x"]


def test_snapstart_functions_read_the_secret_through_botocore(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without the extension: a SnapStart environment has no AWS_SESSION_TOKEN to authenticate to it.
    client = boto3.client("secretsmanager", region_name="us-east-1")
    arn = client.create_secret(Name="pipeline-db-snapstart", SecretString='{"url": "postgresql://app@db/x"}')[
        "ARN"
    ]
    secret = DatabaseSecret(arn, reader="sdk", port=1)  # nothing listens on port 1: no extension
    assert secret.database_url() == "postgresql://app@db/x"


PROBE = """
import json, os, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
from pydantic import BaseModel
import app
import snapshot_restore_py
def incomplete():
    pending, found = list(BaseModel.__subclasses__()), []
    while pending:
        model = pending.pop(); pending.extend(model.__subclasses__())
        if model.__module__.startswith("pipeline.") and not model.__pydantic_complete__:
            found.append(model.__name__)
    return sorted(found)
after_init = incomplete()
for hook, args, kwargs in reversed(snapshot_restore_py.get_before_snapshot()):
    hook(*args, **kwargs)
for hook, args, kwargs in snapshot_restore_py.get_after_restore():
    hook(*args, **kwargs)
loaded = set(sys.modules)
class Context:
    function_name = "restored"; memory_limit_in_mb = 512; aws_request_id = "restored"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:restored"
    def get_remaining_time_in_millis(self): return 10000
response = app.lambda_handler(json.load(open(sys.argv[3])), Context())
print(json.dumps({
    "status": response["statusCode"], "incomplete_after_init": after_init,
    "imported_by_first_request": sorted(set(sys.modules) - loaded),
}))
"""


def _restored_first_request(name: str, initialization_type: str, env: dict[str, str]) -> dict[str, Any]:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE,
            str(ROOT / "functions" / name),
            str(ROOT / "shared"),
            str(ROOT / "events" / f"{name}.json"),
        ],
        env=env | {"AWS_LAMBDA_INITIALIZATION_TYPE": initialization_type},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


@pytest.fixture
def probe_env(db: psycopg.Connection[DictRow]) -> dict[str, str]:
    import os

    insert_dataset(db, user_id=EVENT_USER_ID, dataset_id=EVENT_DATASET_ID)
    insert_job(db, user_id=EVENT_USER_ID, dataset_id=EVENT_DATASET_ID, job_id=EVENT_JOB_ID)
    keep = (
        "PATH",
        "DATABASE_URL",
        "PAGINATION_CURSOR_SECRET",
        "AWS_REGION",
        "POWERTOOLS_SERVICE_NAME",
        "WORKER_CONTROL_TOPIC_ARN",
        "ARTIFACTS_BUCKET",
        # Lambda's own credentials, as the environment gives them (the download signs with them).
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    )
    return {key: os.environ[key] for key in keep} | {
        "PYDANTIC_DISABLE_PLUGINS": "__all__",
        "POWERTOOLS_METRICS_NAMESPACE": "PipelineTest",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }


@pytest.mark.parametrize(
    "name",
    [
        "estimate",
        "list_jobs",
        "get_job",
        "get_dataset",
        "cancel_job",
        "job_events",
        "job_metrics",
        "job_checkpoints",
        "job_download",
        "catalog",
        "list_webhooks",
        "list_webhook_deliveries",
        "rotate_webhook_secret",
        "get_account_limits",
        "put_account_limits",
        "account_usage",
    ],
)
def test_a_snapstart_init_primes_the_function_so_its_first_request_builds_and_imports_nothing(
    name: str, probe_env: dict[str, str], db: psycopg.Connection[DictRow]
) -> None:
    if name in ("list_webhook_deliveries", "rotate_webhook_secret"):  # their events name this endpoint
        insert_webhook(db, user_id=EVENT_USER_ID, webhook_id=EVENT_WEBHOOK_ID)
    if name == "job_download":  # its event asks for the adapter: the job has one, so a URL is signed
        db.execute(
            "update lora_training_jobs set status = 'completed', artifact_key = %s where id = %s",
            (f"users/{EVENT_USER_ID}/jobs/{EVENT_JOB_ID}/adapter/a.safetensors", EVENT_JOB_ID),
        )

    answer = _restored_first_request(name, "snap-start", probe_env)

    assert answer["status"] == 200
    assert answer["incomplete_after_init"] == []
    assert answer["imported_by_first_request"] == []


def test_an_on_demand_init_is_not_primed(probe_env: dict[str, str]) -> None:
    answer = _restored_first_request("estimate", "on-demand", probe_env)

    assert answer["status"] == 200
    assert answer["incomplete_after_init"] != []  # built by the first request instead

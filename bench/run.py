"""The benchmark harness (`make bench`): cold start, warm latency, list scaling, local HTTP throughput.

Prints one table and writes the same figures as JSON (default .bench/results.json, git-ignored).
Every figure is a median of several runs, with min and max. Each target is a ratio within this run,
so the verdicts hold on any machine; the absolute numbers describe this one. Benchmarks are not
tests: nothing here fails on a duration. `--tiny` runs everything with a handful of repetitions
(`make test` does, so the harness cannot rot).

PostgreSQL: DATABASE_URL (a superuser's, for the bulk load) or an embedded pgserver; either way a
throwaway database. SQS: moto in server mode on loopback.
"""

import argparse
import functools
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import psycopg

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "shared"), str(REPO)]

from bench import validation_throughput  # noqa: E402
from bench.protocol_trace import round_trips  # noqa: E402
from local.gateway import function_environment  # noqa: E402
from local.local_database import APP_ROLE, url_for_role  # noqa: E402
from local.sam_template import FunctionSpec, template_functions  # noqa: E402
from local.sqs_server import LocalQueues, LocalSqs  # noqa: E402
from local.stack_process import free_port  # noqa: E402
from pipeline.db.migrate import migrate  # noqa: E402

FUNCTIONS = (
    "estimate",
    "create_job",
    "list_jobs",
    "get_job",
    "get_dataset",
    "job_events",
    "job_metrics",
    "job_checkpoints",
    "job_download",
    "cancel_job",
    "list_webhooks",
    "list_webhook_deliveries",
    "rotate_webhook_secret",
    "get_account_limits",
    "account_usage",
    "create_dataset",
    "list_datasets",
)
# Not benched: create_webhook and delete_webhook, whose events cannot be answered 2xx again and again
# (an account's endpoint limit, a deleted endpoint); they import what list and rotate import; and
# put_account_limits, which imports what get_account_limits imports.
# The functions that hold an AWS client (SQS, SNS, S3) and so import boto3; every other one must not.
AWS_CLIENT_FUNCTIONS = ("create_job", "job_download", "cancel_job", "create_dataset")
# Cold start only: the catalog has no database for the warm loop to count round trips on.
COLD_FUNCTIONS = (*FUNCTIONS, "catalog")
USER = uuid.UUID("8d3f6a2e-4b1c-4e9a-9f57-2c6d1e0b7a11")  # the ids in events/*.json
DATASET = uuid.UUID("3b0e2f9c-7a4d-4c1e-8b6f-5d2a9e1c4f70")
JOB = uuid.UUID("c7a1e5d2-9b3f-4a68-8e21-6f0d4b9c3a55")
WEBHOOK = uuid.UUID("5b8e2f47-1c3a-4d6e-9f80-7a2b3c4d5e6f")
SMALL_USER, BIG_USER = uuid.uuid4(), uuid.uuid4()


@dataclass
class Sizes:
    cold_runs: int
    restore_runs: int
    warm_calls: int
    list_calls: int
    big_user_jobs: int
    all_jobs: int
    http_seconds: float
    validation_mib: tuple[int, ...]

    @classmethod
    def for_mode(cls, tiny: bool) -> "Sizes":
        if tiny:
            # One of each: the tiny run proves the harness works (make test), it measures nothing.
            return cls(
                cold_runs=1,
                restore_runs=1,
                warm_calls=20,
                list_calls=10,
                big_user_jobs=12_000,
                all_jobs=20_000,
                http_seconds=0.3,
                validation_mib=(2,),
            )
        return cls(
            cold_runs=21,
            restore_runs=5,
            warm_calls=1000,
            list_calls=300,
            big_user_jobs=100_000,
            all_jobs=1_000_000,
            http_seconds=3,
            validation_mib=(64, 1024),
        )


@dataclass
class Stat:
    median: float
    min: float
    max: float

    @classmethod
    def of(cls, samples: list[float]) -> "Stat":
        return cls(statistics.median(samples), min(samples), max(samples))


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Results:
    machine: dict[str, Any]
    cold_start: dict[str, Any] = field(default_factory=dict)
    warm: dict[str, Any] = field(default_factory=dict)
    restore: dict[str, Any] = field(default_factory=dict)
    list_scaling: dict[str, Any] = field(default_factory=dict)
    http: dict[str, Any] = field(default_factory=dict)
    validation: dict[str, Any] = field(default_factory=dict)
    targets: dict[str, Any] = field(default_factory=dict)


# ---- environment -------------------------------------------------------------------------------


@contextmanager
def database() -> Iterator[str]:
    """A throwaway, migrated database; yields its owner URL."""
    server_url, server, data_dir = os.environ.get("DATABASE_URL"), None, None
    if not server_url:
        import pgserver

        data_dir = tempfile.mkdtemp(prefix="pipeline-bench-pg-")
        server = pgserver.get_server(data_dir, cleanup_mode="stop")  # type: ignore[attr-defined]
        server_url = str(server.get_uri())
    name = f"pipeline_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')  # a generated identifier
    owner_url = urlsplit(server_url)._replace(path=f"/{name}").geturl()
    try:
        migrate(owner_url)
        yield owner_url
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')
        if server is not None:
            server.cleanup()
            shutil.rmtree(str(data_dir), ignore_errors=True)


def seed(owner_url: str) -> None:
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute(
            "insert into lora_datasets (id, user_id, name, format, status, training_ready,"
            " total_training_pairs, total_tokens) values (%s, %s, 'Customer support v1', 'jsonl', 'ready', true,"
            " 5000, 1200000)",
            (DATASET, USER),
        )
        conn.execute(
            "insert into lora_training_jobs (id, user_id, dataset_id, preset_id, status, total_epochs, total_steps,"
            " gpu_config, hyperparameters, estimated_total_cost, pricing_version, queued_at)"
            " values (%s, %s, %s, 'fast', 'queued', 1, 125, '{\"type\": \"H100\", \"count\": 1}',"
            " '{\"rank\": 8}', 1.23, '2025-12-25', now())",
            (JOB, USER, DATASET),
        )
        # Where its adapter would lie: job_download signs a URL (only artifact_key is read for it).
        conn.execute(
            "update lora_training_jobs set artifact_key = %s where id = %s",
            (f"users/{USER}/jobs/{JOB}/adapter/adapter_model.safetensors", JOB),
        )
        # A feed and a chart as a long run leaves them: a full events page, a chart to downsample.
        conn.execute(
            "insert into job_events (job_id, user_id, type, data) select %s, %s, 'progress',"
            " jsonb_build_object('step', n * 25, 'epoch', 0, 'progress', n, 'cost', n * 0.05)"
            " from generate_series(1, 60) as n",
            (JOB, USER),
        )
        conn.execute(
            "insert into job_metric_points (job_id, user_id, step, epoch, train_loss, validation_loss)"
            " select %s, %s, n, 0, 2.5 * exp(-n / 2000.0), null from generate_series(1, 5000) as n",
            (JOB, USER),
        )
        # A webhook endpoint with a full page of deliveries, each tried three times.
        conn.execute(
            "insert into webhook_endpoints (id, user_id, url, events, secret) values (%s, %s,"
            " 'https://hooks.example.com/pipeline', array['job.status_changed'],"
            " 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')",
            (WEBHOOK, USER),
        )
        conn.execute(
            "insert into webhook_deliveries (endpoint_id, user_id, job_id, event_type, payload, status, attempts)"
            " select %s, %s, %s, 'job.status_changed', '{}', 'delivered', 3 from generate_series(1, 25)",
            (WEBHOOK, USER, JOB),
        )
        conn.execute(
            "insert into webhook_delivery_attempts (delivery_id, user_id, attempt, response_status, response_body,"
            " duration_ms) select d.id, d.user_id, n, case when n < 3 then 503 else 200 end, '{}', 120"
            " from webhook_deliveries d, generate_series(1, 3) as n",
        )


def function_env(app_url: str, queues: LocalQueues, sqs_endpoint: str) -> dict[str, str]:
    return queues.environment() | {
        "DATABASE_URL": app_url,
        "AWS_ENDPOINT_URL": sqs_endpoint,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "PAGINATION_CURSOR_SECRET": "bench-cursor-secret-" + "x" * 32,
        "POWERTOOLS_METRICS_NAMESPACE": "PipelineBench",
    }


def lambda_environment(name: str, code_dir: Path) -> dict[str, str]:
    """What a deployed function's interpreter sees beyond our settings: the template's literal variables
    and what the Lambda runtime sets with tracing active. Without them Powertools' Tracer is off and the
    X-Ray SDK, not knowing it is in Lambda, builds a sampler with its own botocore client at import:
    ~100 ms that no deployed cold start pays, in the floor and the function alike."""
    spec = _template_specs()[name]
    # An empty variable is one the template declares only for `sam local invoke` (DATABASE_URL): unset.
    template = {key: value for key, value in spec.environment.items() if key not in _NOT_LOCAL and value}
    return template | {
        "LAMBDA_TASK_ROOT": str(code_dir),
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",  # UDP: nothing needs to listen
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "_X_AMZN_TRACE_ID": "Root=1-67a0b1c2-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=1",
    }


# TLS to the database is for AWS; the local one has none.
_NOT_LOCAL = frozenset({"DATABASE_SSLMODE"})


@functools.cache
def _template_specs() -> dict[str, FunctionSpec]:
    return {spec.code_dir.name: spec for spec in template_functions(REPO / "template.yaml")}


def event(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((REPO / "events" / f"{name}.json").read_text())
    return loaded


class Context:
    function_name = "bench"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:bench"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


# ---- 1. cold start -----------------------------------------------------------------------------

COLD_PROBE = """
import json, sys, time
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import app
class Context:
    function_name = "cold"; memory_limit_in_mb = 512; aws_request_id = "cold"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:cold"
    def get_remaining_time_in_millis(self): return 10000
response = app.lambda_handler(json.load(open(sys.argv[3])), Context())
print("answered", flush=True)  # the clock stops here: Lambda never pays for interpreter teardown
third_party = [  # in the order they were loaded
    name for name, module in list(sys.modules.items())
    if "site-packages" in (getattr(module, "__file__", None) or "")
]
print(json.dumps({"status": response["statusCode"], "modules": third_party}), file=sys.stderr)
"""


# The floor: the same third-party modules, every one the function loaded in the same order, and nothing
# of ours; in the same interpreter layout (the function's and the layer's folders first on the path, as
# in Lambda: every import searches them, which measured ~8 ms of a cold start that is no code's).
FLOOR_PROBE = """
import importlib, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
for name in sys.argv[3:]:
    try:
        importlib.import_module(name)
    except Exception:
        pass  # a module only its parent can create (vendored aliases, platform shims)
print("imported", flush=True)
"""


def _wall(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, str]:
    """Seconds from starting the interpreter to the probe's first line (after its work, before its
    exit: tearing an interpreter down is no part of a cold start), and what the probe wrote to stderr."""
    started = time.perf_counter()
    with subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None
        line = process.stdout.readline()
        elapsed = time.perf_counter() - started
        _, stderr = process.communicate(timeout=120)
    if process.returncode != 0 or not line:
        raise RuntimeError(f"probe failed ({process.returncode}): {stderr}")
    return elapsed, stderr


def _layer_copy(target: Path, compiled: bool) -> tuple[Path, Path]:
    """The layer and functions as a deployment would ship them: with or without precompiled bytecode."""
    shutil.copytree(REPO / "shared", target / "layer", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "functions", target / "functions", ignore=shutil.ignore_patterns("__pycache__"))
    if compiled:
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash", str(target)],
            check=True,
        )
    return target / "layer", target / "functions"


def cold_start(sizes: Sizes, env: dict[str, str], events_dir: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    base_env = {"PATH": os.environ["PATH"], "PYTHONDONTWRITEBYTECODE": "1"} | env
    with tempfile.TemporaryDirectory() as with_dir, tempfile.TemporaryDirectory() as without_dir:
        variants = {
            "precompiled": _layer_copy(Path(with_dir), compiled=True),
            "source_only": _layer_copy(Path(without_dir), compiled=False),
        }
        for name in COLD_FUNCTIONS:
            samples: dict[str, list[float]] = {"precompiled": [], "source_only": [], "floor": []}
            modules: list[str] = []
            for _ in range(sizes.cold_runs):
                # The floor right after the precompiled probe: each pair shares the machine's state of the
                # moment, so their ratio is steadier than a ratio of medians taken far apart.
                for variant in ("precompiled", "floor", "source_only"):
                    layer, functions = variants["precompiled" if variant == "floor" else variant]
                    lambda_env = base_env | lambda_environment(name, functions / name)
                    if variant == "floor":
                        command = [sys.executable, "-c", FLOOR_PROBE, str(functions / name), str(layer)]
                        samples["floor"].append(_wall([*command, *modules], lambda_env, functions / name)[0])
                        continue
                    command = [sys.executable, "-c", COLD_PROBE, str(functions / name), str(layer)]
                    seconds, stderr = _wall(
                        [*command, str(events_dir / f"{name}.json")], lambda_env, functions / name
                    )
                    probe = json.loads(stderr.strip().splitlines()[-1])
                    assert probe["status"] in (200, 201), probe
                    modules = probe["modules"]
                    samples[variant].append(seconds)
            stats = {key: Stat.of(values) for key, values in samples.items()}
            pairs = [
                cold / floor for cold, floor in zip(samples["precompiled"], samples["floor"], strict=True)
            ]
            results[name] = {
                **{key: vars(stat) for key, stat in stats.items()},
                "ratio_to_floor": statistics.median(pairs),
                "ratio_of_medians": stats["precompiled"].median / stats["floor"].median,
                "boto3_imported": "boto3" in modules,
                "floor_packages": sorted({module.split(".")[0] for module in modules}),
            }
    return results


# ---- 2. warm latency ---------------------------------------------------------------------------


def load_function(name: str) -> ModuleType:
    import importlib

    return importlib.import_module(f"functions.{name}.app")


def warm(sizes: Sizes, app_url: str) -> dict[str, Any]:
    from pipeline.runtime.observability import logger as function_logger

    # Thousands of calls: the functions' per-request info lines (a cancel logs one) would bury the table.
    function_logger.setLevel("WARNING")
    results: dict[str, Any] = {}
    with psycopg.connect(app_url, autocommit=True) as floor_conn:
        floor_samples = []
        for _ in range(sizes.warm_calls):
            started = time.perf_counter()
            floor_conn.execute("select id from job_queue_outbox where id = %s", (1,)).fetchone()
            floor_samples.append(time.perf_counter() - started)
    floor_p50 = statistics.median(floor_samples)
    for name in FUNCTIONS:
        module = load_function(name)
        request = event(name)

        def call(module: ModuleType = module, request: dict[str, Any] = request) -> Any:
            return module.lambda_handler(request, Context())

        with redirect_stdout(open(os.devnull, "w")):  # Powertools writes metrics and logs to stdout
            for _ in range(5):
                call()
            samples = []
            for _ in range(sizes.warm_calls):
                started = time.perf_counter()
                response = call()
                samples.append(time.perf_counter() - started)
            assert response["statusCode"] in (200, 201), response
            with round_trips(module.database._connection) as counted:
                call()
        p50 = statistics.median(samples)
        results[name] = {
            "p50": p50,
            "p99": percentile(samples, 0.99),
            "min": min(samples),
            "max": max(samples),
            "floor_p50": floor_p50,
            "p50_minus_floor": p50 - floor_p50,
            "round_trips": counted.count,
            "statements": counted.statements,
        }
    return results


# ---- 2b. SnapStart: the first request after a restore -------------------------------------------

RESTORE_PROBE = """
import json, os, statistics, sys, time
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import app
import snapshot_restore_py
for hook, args, kwargs in reversed(snapshot_restore_py.get_before_snapshot()):
    hook(*args, **kwargs)
# ... the snapshot; a new environment resumes from it here:
for hook, args, kwargs in snapshot_restore_py.get_after_restore():
    hook(*args, **kwargs)
class Context:
    function_name = "restored"; memory_limit_in_mb = 512; aws_request_id = "restored"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:restored"
    def get_remaining_time_in_millis(self): return 10000
request = json.load(open(sys.argv[3]))
started = time.perf_counter()
response = app.lambda_handler(request, Context())
first = time.perf_counter() - started
assert response["statusCode"] in (200, 201), response
samples = []
for _ in range(int(sys.argv[4])):
    started = time.perf_counter()
    app.lambda_handler(request, Context())
    samples.append(time.perf_counter() - started)
# What reconnecting costs a warm environment: the same request right after the before-snapshot hooks
# released its connections (PostgreSQL's and the SQS client's), which is all a restore has to redo.
reconnected = []
for _ in range(5):
    for hook, args, kwargs in reversed(snapshot_restore_py.get_before_snapshot()):
        hook(*args, **kwargs)
    started = time.perf_counter()
    app.lambda_handler(request, Context())
    reconnected.append(time.perf_counter() - started)
connect = max(0.0, statistics.median(reconnected) - statistics.median(samples))
print(json.dumps({"first": first, "warm_p50": statistics.median(samples), "connect": connect}))
"""
RESTORE_FUNCTIONS = COLD_FUNCTIONS


def restore(sizes: Sizes, env: dict[str, str], events_dir: Path) -> dict[str, Any]:
    """Each HTTP function in a fresh interpreter as Lambda runs a SnapStart init (primed), its hooks run
    as the runtime runs them, then its first request timed against its own warm p50 and what reconnecting
    costs it (the same request after its connections were released, warm, minus the warm p50: a new
    PostgreSQL backend's first queries included). The unprimed column is an on-demand init (no priming)."""
    results: dict[str, Any] = {}
    for name in RESTORE_FUNCTIONS:
        code = REPO / "functions" / name
        runs: dict[str, list[dict[str, float]]] = {"primed": [], "unprimed": []}
        for _ in range(sizes.restore_runs):
            for variant, init_type in (("primed", "snap-start"), ("unprimed", "on-demand")):
                lambda_env = (
                    env | lambda_environment(name, code) | {"AWS_LAMBDA_INITIALIZATION_TYPE": init_type}
                )
                command = [
                    sys.executable,
                    "-c",
                    RESTORE_PROBE,
                    str(code),
                    str(REPO / "shared"),
                    str(events_dir / f"{name}.json"),
                    str(sizes.warm_calls // 10 or 5),
                ]
                done = subprocess.run(
                    command, env=lambda_env, cwd=code, capture_output=True, text=True, timeout=120, check=True
                )
                runs[variant].append(json.loads(done.stdout.strip().splitlines()[-1]))
        first = statistics.median(run["first"] for run in runs["primed"])
        warm_p50 = statistics.median(run["warm_p50"] for run in runs["primed"])
        connect = statistics.median(run["connect"] for run in runs["primed"])
        results[name] = {
            "first_after_restore": first,
            "first_after_restore_unprimed": statistics.median(run["first"] for run in runs["unprimed"]),
            "warm_p50": warm_p50,
            "connect": connect,
            "budget": warm_p50 + connect + 0.002,
        }
    return results


# ---- 3. list scaling ---------------------------------------------------------------------------


def load_jobs(owner_url: str, sizes: Sizes) -> None:
    """SMALL_USER: 10 jobs; BIG_USER: big_user_jobs; other users fill the table up to all_jobs."""
    fillers = max(1, (sizes.all_jobs - sizes.big_user_jobs - 10) // 1000)
    with psycopg.connect(owner_url, autocommit=True) as conn:
        # A bulk load as superuser: triggers (counters, foreign keys) off, counters rebuilt after.
        conn.execute("set session_replication_role = replica")
        conn.execute(
            "insert into lora_datasets (id, user_id, name, status, training_ready)"
            " select gen_random_uuid(), u, 'bench', 'ready', true"
            " from unnest(%s::uuid[]) u",
            ([SMALL_USER, BIG_USER, *[uuid.uuid4() for _ in range(fillers)]],),
        )
        for user, count in [(SMALL_USER, 10), (BIG_USER, sizes.big_user_jobs)]:
            _insert_jobs(conn, "d.user_id = %(user)s", {"user": user, "per_user": count})
        rest = sizes.all_jobs - sizes.big_user_jobs - 10
        _insert_jobs(
            conn,
            "d.user_id <> all(%(known)s)",
            {"known": [SMALL_USER, BIG_USER], "per_user": rest // fillers},
        )
        conn.execute("set session_replication_role = origin")
        conn.execute("delete from job_counts")
        conn.execute(
            "insert into job_counts (user_id, status, count)"
            " select user_id, status, count(*) from lora_training_jobs group by user_id, status"
        )
        conn.execute("analyze")


def _insert_jobs(conn: psycopg.Connection[Any], where: str, params: dict[str, Any]) -> None:
    conn.execute(
        "insert into lora_training_jobs (id, user_id, dataset_id, preset_id, status, total_epochs, total_steps,"
        " gpu_config, hyperparameters, estimated_total_cost, pricing_version, queued_at, created_at, updated_at)"
        " select gen_random_uuid(), d.user_id, d.id, 'fast',"
        " (array['queued', 'running', 'completed', 'failed'])[1 + i %% 4], 1, 100,"
        ' \'{"type": "H100", "count": 1}\', \'{"rank": 8}\', 1.00, \'2025-12-25\', ts, ts, ts'
        " from lora_datasets d, generate_series(1, %(per_user)s) i,"
        " lateral (select now() - make_interval(secs => i) as ts) t"
        f" where {where}",
        params,
    )


def list_scaling(sizes: Sizes, owner_url: str) -> dict[str, Any]:
    from pipeline.jobs import queries as job_queries

    module = load_function("list_jobs")
    secret = module.cursor_secret.value()

    def cursor_at(user: uuid.UUID, page: int, status: str | None) -> str:
        with psycopg.connect(owner_url) as conn:
            row = conn.execute(
                "select created_at, id from lora_training_jobs where user_id = %s and (%s::text is null or status = %s)"
                " order by created_at desc, id desc offset %s limit 1",
                (user, status, status, (page - 1) * 10 - 1),
            ).fetchone()
        assert row is not None
        return job_queries.cursor_at(job_queries.PagePosition(status, page, 10, row[0], row[1]), user, secret)

    cases: dict[str, tuple[uuid.UUID, dict[str, str]]] = {}
    for status in (None, "completed"):
        suffix = "" if status is None else f" status={status}"
        extra = {} if status is None else {"status": status}
        cases[f"10-job user, first page{suffix}"] = (SMALL_USER, {"limit": "10"} | extra)
        cases[f"100k-job user, first page{suffix}"] = (BIG_USER, {"limit": "10"} | extra)
        cases[f"100k-job user, page 1000 by number{suffix}"] = (
            BIG_USER,
            {"limit": "10", "page": "1000"} | extra,
        )
        depth_cursor = cursor_at(BIG_USER, 1000 if status is None else 250, status)
        cases[f"100k-job user, page {'1000' if status is None else '250'} by cursor{suffix}"] = (
            BIG_USER,
            {"limit": "10", "cursor": depth_cursor},
        )
    results: dict[str, Any] = {}
    with redirect_stdout(open(os.devnull, "w")):
        for label, (user, query) in cases.items():
            request = event("list_jobs")
            request["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = str(user)
            request["queryStringParameters"] = query
            request["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
            samples = []
            for i in range(sizes.list_calls + 5):
                started = time.perf_counter()
                response = module.lambda_handler(request, Context())
                if i >= 5:
                    samples.append(time.perf_counter() - started)
            body = json.loads(response["body"])
            assert response["statusCode"] == 200, body
            results[label] = {**vars(Stat.of(samples)), "total": body["data"]["pagination"]["total"]}
    return results


# ---- 4. local stack over HTTP ------------------------------------------------------------------


def http_throughput(sizes: Sizes) -> dict[str, Any]:
    from local.stack_process import Stack, http, run_cli

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as state:
        stack = Stack.start(Path(state))
        try:
            token = run_cli(Path(state), "token").strip()
            body = {
                "dataset_id": "6f1c3e2a-8b4d-4f5e-9a7b-1c2d3e4f5a6b",  # the demo user's ready dataset
                "gpu_config": {"type": "A100-80GB", "count": 2},
                "hyperparameters": {"batch_size": 4, "epochs": 3, "learning_rate": 0.00005, "rank": 16},
            }
            for clients in (1, 4, 16):
                counts = [0] * clients
                deadline = time.perf_counter() + sizes.http_seconds

                def client(index: int, deadline: float = deadline, counts: list[int] = counts) -> None:
                    while time.perf_counter() < deadline:
                        assert (
                            http("POST", f"{stack.api}/jobs/estimate", token=token, body=body).status == 200
                        )
                        counts[index] += 1

                threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                results[f"{clients} clients"] = {"requests_per_s": sum(counts) / sizes.http_seconds}
        finally:
            stack.stop()
    return results


# ---- report ------------------------------------------------------------------------------------


def targets(results: Results) -> dict[str, Any]:
    """The verdicts of the parts measured (a part left out by --only judges nothing)."""
    verdicts: dict[str, Any] = {}
    for name, cold in results.cold_start.items():
        verdicts[f"cold start {name} <= 1.15 x floor"] = cold["ratio_to_floor"] <= 1.15
    if results.cold_start:
        for name in (name for name in COLD_FUNCTIONS if name not in AWS_CLIENT_FUNCTIONS):
            verdicts[f"{name} imports no boto3"] = not results.cold_start[name]["boto3_imported"]
    if results.warm:
        for name in ("estimate", "get_job"):
            verdicts[f"warm {name} p50 - floor <= 0.5 ms"] = results.warm[name]["p50_minus_floor"] <= 0.0005
        verdicts["create_job <= 3 round trips"] = results.warm["create_job"]["round_trips"] <= 3
    for name, r in results.restore.items():
        verdicts[f"first request after restore {name} <= warm p50 + connect + 2 ms"] = (
            r["first_after_restore"] <= r["budget"]
        )
    if results.validation:
        # Memory bounded whatever the file's size: what validating adds to the tokenizers' own.
        for size, v in results.validation.items():
            verdicts[f"validating {size} adds <= 64 MiB of memory"] = (
                v["peak_rss_mib_after"] - v["peak_rss_mib_before"] <= 64
            )
    if results.list_scaling:
        small = results.list_scaling["10-job user, first page"]["median"]
        deep = results.list_scaling["100k-job user, page 1000 by cursor"]["median"]
        verdicts["1000-deep page (cursor) <= 1.5 x first page of 10-job user"] = deep <= 1.5 * small
    return verdicts


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f}"


def print_table(results: Results) -> None:
    print(f"\nMachine: {results.machine}")
    print("\n1. Cold start: fresh interpreter, import app + first request (ms: median [min-max])")
    print(
        f"{'function':<12}{'precompiled':>26}{'source only':>26}{'floor':>26}{'ratio':>8}{'(medians)':>11}  boto3"
    )
    for name, c in results.cold_start.items():
        cells = [
            f"{ms(c[k]['median'])} [{ms(c[k]['min']).strip()}-{ms(c[k]['max']).strip()}]"
            for k in ("precompiled", "source_only", "floor")
        ]
        print(
            f"{name:<12}{cells[0]:>26}{cells[1]:>26}{cells[2]:>26}{c['ratio_to_floor']:>8.2f}"
            f"{c['ratio_of_medians']:>11.2f}  {c['boto3_imported']}"
        )
    print("\n2. Warm latency, in-process lambda_handler (ms)")
    print(
        f"{'function':<12}{'p50':>9}{'p99':>9}{'floor p50':>11}{'p50-floor':>11}{'round trips':>13}{'statements':>12}"
    )
    for name, w in results.warm.items():
        print(
            f"{name:<12}{ms(w['p50'])}{ms(w['p99'])}{ms(w['floor_p50']):>11}{ms(w['p50_minus_floor']):>11}{w['round_trips']:>13}{w['statements']:>12}"
        )
    print("\n2b. SnapStart: first request after a restore (ms, medians; budget = warm p50 + connect + 2)")
    print(f"{'function':<12}{'first':>9}{'unprimed':>10}{'warm p50':>10}{'connect':>9}{'budget':>9}")
    for name, r in results.restore.items():
        print(
            f"{name:<12}{ms(r['first_after_restore'])}{ms(r['first_after_restore_unprimed']):>10}"
            f"{ms(r['warm_p50']):>10}{ms(r['connect']):>9}{ms(r['budget']):>9}"
        )
    print("\n3. List scaling (ms: median [min-max]; total as returned)")
    for label, r in results.list_scaling.items():
        print(
            f"{label:<48}{ms(r['median'])} [{ms(r['min']).strip()}-{ms(r['max']).strip()}]  total={r['total']}"
        )
    print("\n4. Local stack over HTTP, POST /jobs/estimate (for information)")
    for label, r in results.http.items():
        print(f"{label:<12}{r['requests_per_s']:>10.1f} req/s")
    print("\n5. Dataset validation: a generated JSONL file streamed through the four models' tokenizers")
    print(f"{'file':<10}{'examples':>10}{'seconds':>10}{'MB/s':>8}{'peak RSS MiB (tokenizers, after)':>36}")
    for label, v in results.validation.items():
        print(
            f"{label:<10}{v['examples']:>10}{v['seconds']:>10.1f}{v['mb_per_s']:>8.2f}"
            f"{v['peak_rss_mib_before']:>24.0f}{v['peak_rss_mib_after']:>12.0f}"
        )
    print("\nTargets")
    for label, ok in results.targets.items():
        print(f"  {'PASS' if ok else 'MISS'}  {label}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="a few repetitions of everything")
    parser.add_argument("--output", default=str(REPO / ".bench" / "results.json"))
    parser.add_argument(
        "--only",
        choices=("cold", "restore", "warm", "list", "http", "validation"),
        action="append",
        help="measure only these parts (repeatable): cold start, SnapStart restore, warm latency, list "
        "scaling, HTTP throughput, dataset validation; the targets of the parts left out are not judged",
    )
    args = parser.parse_args(argv)
    parts = set(args.only or ("cold", "restore", "warm", "list", "http", "validation"))
    sizes = Sizes.for_mode(args.tiny)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the local SQS server's access log
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")  # pgserver's runtime folder lookup

    results = Results(
        machine={
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "platform": sys.platform,
            "tiny": args.tiny,
        }
    )
    sqs = LocalSqs(port=free_port()).start()
    try:
        with database() as owner_url:
            seed(owner_url)
            env = function_env(url_for_role(owner_url, APP_ROLE), sqs.create_queues(), sqs.endpoint_url)
            os.environ.update(env)
            with tempfile.TemporaryDirectory() as events_dir:
                for name in RESTORE_FUNCTIONS:
                    shutil.copy(REPO / "events" / f"{name}.json", Path(events_dir) / f"{name}.json")
                if "cold" in parts:
                    step(
                        "cold start",
                        lambda: results.cold_start.update(cold_start(sizes, env, Path(events_dir))),
                    )
                if "restore" in parts:
                    step(
                        "SnapStart restore",
                        lambda: results.restore.update(restore(sizes, env, Path(events_dir))),
                    )
            # The in-process calls run as deployed too, tracing on: set before any function module (and
            # with it the X-Ray SDK) is imported; not left for the local stack started afterwards.
            with function_environment(lambda_environment("get_job", REPO / "functions" / "get_job")):
                if "warm" in parts:
                    step("warm latency", lambda: results.warm.update(warm(sizes, env["DATABASE_URL"])))
                if "list" in parts:
                    step("loading jobs", lambda: load_jobs(owner_url, sizes))
                    step("list scaling", lambda: results.list_scaling.update(list_scaling(sizes, owner_url)))
    finally:
        sqs.stop()
    if "http" in parts:
        step("local stack over HTTP", lambda: results.http.update(http_throughput(sizes)))
    if "validation" in parts:
        for mib in sizes.validation_mib:
            step(f"validating {mib} MiB", functools.partial(_validation, results, mib))
    results.targets = targets(results)

    print_table(results)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(vars(results), indent=2, default=str))
    print(f"\nFigures written to {output}")
    return 0


def _validation(results: Results, mib: int) -> None:
    results.validation[f"{mib} MiB"] = validation_throughput.measure(mib)


def step(label: str, work: Callable[[], Any]) -> None:
    started = time.perf_counter()
    print(f"... {label}", file=sys.stderr, flush=True)
    work()
    print(f"    {label}: {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())

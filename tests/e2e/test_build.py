"""`make build`: a real `sam build` for this machine's architecture, and what it produced.

Each function's artifact holds only its own code; the shared layer holds `pipeline` (migrations
included) and the runtime dependencies, no test or dev package, with bytecode precompiled (unchecked
hash); the tokenizers layer holds the four locked tokenizer packages and nothing else; each template
Handler, imported from the artifact with only its layers on the path (as Lambda does, under Python 3.12),
answers its events/ file.
"""

import json
import os
import platform
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import DictRow

from local.sqs_server import LocalSqs
from local.stack_process import free_port
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
from tests.services import CloudFormationEndpoint, database_url_for_function, local_queues, owner_database_url
from tests.template_resources import FUNCTIONS, RESOURCES
from tools import lock_check

ROOT = REPO_ROOT
ARCH = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}[
    platform.machine().lower()
]
DEV_PACKAGES = {
    "pytest",
    "moto",
    "mypy",
    "ruff",
    "pgserver",
    "cfnlint",
    "schemathesis",
    "hypothesis",
    "uvicorn",
    "jwt",
}


def _make(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS")} | env
    return subprocess.run(
        ["make", "-s", *args], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=900, check=False
    )


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("sam-build") / "build"
    result = _make("build", f"ARCH={ARCH}", f"BUILD_DIR={target}")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Build Succeeded" in result.stdout
    return target


@pytest.fixture(scope="module")
def python312() -> str:
    found = _make("-f", "Makefile", "--eval", "print-python312: ; @echo $(PYTHON312)", "print-python312")
    path = found.stdout.strip()
    assert path, "Python 3.12 (the Lambda runtime) is needed to build and import the artifacts"
    return path


def test_sam_validate_lint_passes() -> None:
    result = _make("validate")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_each_function_artifact_holds_only_its_own_code(build_dir: Path) -> None:
    for name, function in FUNCTIONS.items():
        source = ROOT / function["Properties"]["CodeUri"]
        built = {
            p.relative_to(build_dir / name).as_posix() for p in (build_dir / name).rglob("*") if p.is_file()
        }
        assert built == {p.name for p in source.glob("*.py")}, name


def test_layer_holds_the_package_and_runtime_dependencies_only(build_dir: Path) -> None:
    layer = build_dir / "SharedLayer" / "python"
    top_level = {p.name for p in layer.iterdir()}
    assert {
        "pipeline",
        "pydantic",
        "psycopg",
        "psycopg_binary",
        "starlette",
        "mangum",
        "aws_lambda_powertools",
        "boto3",
    } <= top_level
    migrations = {p.name for p in (ROOT / "shared" / "pipeline" / "db" / "migrations").glob("*.sql")}
    assert migrations
    assert {p.name for p in (layer / "pipeline" / "db" / "migrations").glob("*.sql")} == migrations
    assert not {name.split("-")[0].lower() for name in top_level} & DEV_PACKAGES
    assert not list(layer.glob("pipeline/**/test*"))
    # Build-time generators live in tools/: the layer ships only what the functions run.
    shipped = {p.stem for p in (layer / "pipeline").glob("*.py*")} | {
        p.stem.split(".")[0] for p in (layer / "pipeline").rglob("*.pyc")
    }
    assert not shipped & {"openapi_document", "message_schema", "botocore_data_bundle"}
    compiled = next((layer / "pydantic_core").glob("_pydantic_core.cpython-312-*.so")).name
    assert ("x86_64" if ARCH == "x86_64" else "aarch64") in compiled


def test_layer_bytecode_is_precompiled_without_source_checks(build_dir: Path) -> None:
    package = build_dir / "SharedLayer" / "python" / "pipeline"
    sources = list(package.rglob("*.py"))
    assert len(sources) == len(list((ROOT / "shared" / "pipeline").rglob("*.py")))
    for source in sources:
        pyc = source.parent / "__pycache__" / f"{source.stem}.cpython-312.pyc"
        assert pyc.exists(), source.name
        flags = int.from_bytes(pyc.read_bytes()[4:8], "little")
        assert flags == 1, f"{pyc.name}: flags {flags}, want 1 (unchecked hash)"


OTHER_ARCH = "arm64" if ARCH == "x86_64" else "x86_64"


@pytest.mark.parametrize(
    ("folder", "target", "lock", "compiled"),
    [
        (
            "shared",
            "resolve-SharedLayer",
            "shared/requirements.txt",
            ("pydantic-core", "psycopg-binary", "wrapt"),
        ),
        (
            "tokenizers",
            "resolve-TokenizersLayer",
            "requirements-tokenizers.txt",
            ("tiktoken", "sentencepiece"),
        ),
    ],
    ids=["SharedLayer", "TokenizersLayer"],
)
def test_the_layer_resolves_for_the_architecture_this_machine_does_not_build(
    python312: str, folder: str, target: str, lock: str, compiled: tuple[str, ...]
) -> None:
    # The real build above is for this machine's architecture; this resolves the other one from the lock
    # (pip's dry run: wheels chosen, nothing installed), so a missing wheel tag cannot go unseen.
    result = _make("-C", folder, target, f"ARCH={OTHER_ARCH}", f"PYTHON={python312}")
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    wheels = {
        item["metadata"]["name"].lower().replace("_", "-"): item["download_info"]["url"]
        for item in report["install"]
    }
    locked = {
        name
        for name, pin in lock_check.read_lock(ROOT / lock).items()
        if pin.marker != "sys_platform == 'win32'"
    }
    assert set(wheels) == locked
    machine = "aarch64" if OTHER_ARCH == "arm64" else "x86_64"
    for name in compiled:
        filename = wheels[name].rsplit("/", 1)[-1]
        assert "-cp312-" in filename, filename
        assert f"_{machine}" in filename, filename


def test_the_tokenizers_layer_holds_the_locked_tokenizers_and_their_vocabularies_only(
    build_dir: Path,
) -> None:
    layer = build_dir / "TokenizersLayer" / "python"
    distributions = {p.name.split("-")[0].lower() for p in layer.glob("*.dist-info")}
    assert distributions == {"tiktoken", "sentencepiece", "mistral_common", "llama_models"}
    for vocabulary in (
        "mistral_common/data/tekken_240718.json",
        "mistral_common/data/mistral_instruct_tokenizer_240323.model.v3",
        "llama_models/llama3/tokenizer.model",
    ):
        assert (layer / vocabulary).is_file(), vocabulary
    machine = "x86_64" if ARCH == "x86_64" else "aarch64"
    assert machine in next((layer / "tiktoken").glob("_tiktoken.cpython-312-*.so")).name
    # Locked without dependencies: none of mistral-common's or llama-models' (never imported) came along,
    # nor anything the shared layer already has.
    assert not {"regex", "requests", "numpy", "pydantic", "pillow", "huggingface_hub"} & {
        p.name.lower() for p in layer.iterdir()
    }
    pyc = layer / "tiktoken" / "__pycache__" / "core.cpython-312.pyc"
    assert int.from_bytes(pyc.read_bytes()[4:8], "little") == 1  # unchecked hash, as the shared layer
    attached = {
        name
        for name, function in FUNCTIONS.items()
        if {"Fn::Ref": "TokenizersLayer"} in function["Properties"].get("Layers", [])
    }
    assert attached == {"DatasetValidatorFunction"}


PROBE = """
import json, os, sys
sys.path[:0] = [sys.argv[1], *sys.argv[2].split(os.pathsep)]  # its folder, its layers: nothing else
import app
class Context:
    function_name = "built"; memory_limit_in_mb = 512; aws_request_id = "built"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:built"
    def get_remaining_time_in_millis(self): return 60000
handler = getattr(app, sys.argv[4])
print(json.dumps(handler(json.load(open(sys.argv[3])), Context()), default=str))
"""


@pytest.fixture(scope="module")
def local_sqs() -> Iterator[tuple[str, str]]:
    """An SQS endpoint the built functions reach over HTTP. It serves the same in-process moto backend
    as the test session's mock, so the session's jobs queue is already there."""
    sqs = LocalSqs(port=free_port()).start()
    yield sqs.endpoint_url, os.environ["JOBS_QUEUE_URL"]
    sqs.stop()


def _layers(build_dir: Path, name: str) -> str:
    """The built layers Lambda would extract for the function: the shared one (Globals), then its own."""
    own = [
        layer["Fn::Ref"]
        for layer in FUNCTIONS[name]["Properties"].get("Layers", [])
        if isinstance(layer, dict)
        and RESOURCES.get(layer.get("Fn::Ref", ""), {}).get("Type", "").endswith("LayerVersion")
    ]
    return os.pathsep.join(str(build_dir / layer / "python") for layer in ["SharedLayer", *own])


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_each_handler_imported_from_the_artifact_answers_its_event(
    name: str,
    build_dir: Path,
    python312: str,
    db: psycopg.Connection[DictRow],
    local_sqs: tuple[str, str],
    cloudformation: CloudFormationEndpoint,
    tmp_path: Path,
) -> None:
    insert_dataset(db, user_id=EVENT_USER_ID, dataset_id=EVENT_DATASET_ID)
    insert_job(db, user_id=EVENT_USER_ID, dataset_id=EVENT_DATASET_ID, job_id=EVENT_JOB_ID)
    # The event job's adapter, so job_download signs a URL (it reads only artifact_key for that).
    db.execute(
        "update lora_training_jobs set artifact_key = %s where id = %s",
        (f"users/{EVENT_USER_ID}/jobs/{EVENT_JOB_ID}/adapter/a.safetensors", EVENT_JOB_ID),
    )
    insert_webhook(db, user_id=EVENT_USER_ID, webhook_id=EVENT_WEBHOOK_ID)  # the webhook events' endpoint
    properties = FUNCTIONS[name]["Properties"]
    folder = properties["CodeUri"].strip("/").removeprefix("functions/")
    if folder == "delete_dataset":  # a dataset a job that has not ended uses is not deleted (409)
        db.execute("delete from lora_training_jobs where id = %s", (EVENT_JOB_ID,))
    event: dict[str, Any] = json.loads((ROOT / "events" / f"{folder}.json").read_text())
    if "ResponseURL" in event:
        event["ResponseURL"] = cloudformation.url
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(event))
    endpoint, queue_url = local_sqs
    module, _, handler = properties["Handler"].rpartition(".")
    assert module == "app"
    env = {
        "PATH": "/usr/bin:/bin",
        # Lambda's /var/task is read-only: the import writes no bytecode beside the artifact.
        "PYTHONDONTWRITEBYTECODE": "1",
        "DATABASE_URL": database_url_for_function(name),
        "MIGRATION_DATABASE_URL": owner_database_url(),
        **local_queues().environment(),
        "JOBS_QUEUE_URL": queue_url,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "built",
        "AWS_SECRET_ACCESS_KEY": "built",
        "PAGINATION_CURSOR_SECRET": "x" * 48,
    }

    result = subprocess.run(
        [
            python312,
            "-S",
            "-c",
            PROBE,
            str(build_dir / name),
            _layers(build_dir, name),
            str(event_file),
            handler,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    if event.get("version") == "2.0":  # an API Gateway event
        assert answer["statusCode"] in (200, 201, 204), answer
    elif folder in ("job_dispatcher", "job_reports", "webhook_delivery", "dataset_validator"):
        # The validator's event names the event dataset, made without a file: nothing to validate.
        assert answer == {"batchItemFailures": []}
    elif folder == "outbox_relay":
        assert set(answer) == {"sent", "failed", "backlog"}
    elif folder == "job_watchdog":
        assert answer == {"silent": 0, "failed": 0, "unstarted": 0, "unstarted_failed": 0}
    else:
        assert [a["Status"] for a in cloudformation.answers] == ["SUCCESS"]

"""The services of the integration and end-to-end tests: a real PostgreSQL and a mocked SQS, started
once per run by the first of their conftests to load (before any function module is imported), and
the fixtures over them. Unit tests never load this.

PostgreSQL: the server at DATABASE_URL when set, otherwise an embedded one (pgserver) in a temporary
folder. Either way the run gets its own throwaway database, migrated once; each test starts from empty
tables. SQS: moto, started before collection, because boto3 clients created before the mock starts
are not intercepted (the create_job function creates its client at import, as in Lambda).

A test owns what it reads. The queues are shared by every test of the run (the functions' clients
hold their URLs from import), so a queue fixture purges its queue before the test and again after it:
PurgeQueue drops in-flight and delayed messages too, which draining cannot (a message an earlier test
hid with ChangeMessageVisibility comes back whenever the run is slow enough). Tests of one process run
one at a time; each pytest-xdist worker has its own moto.
"""

import importlib
import json
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import boto3
import psycopg
import pytest
from psycopg.rows import DictRow, dict_row

from local.gateway import database_url_for, function_environment
from local.local_database import APP_ROLE, WORKER_ROLE, url_for_role
from local.sam_template import FunctionSpec, template_functions
from local.sqs_server import LocalQueues, create_artifacts_bucket, create_queues
from pipeline.db.database import Database, DatabaseSettings
from pipeline.db.migrate import migrate

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import MessageTypeDef

_state: dict[str, Any] = {}

TABLES = (
    "idempotency_keys",
    "job_queue_outbox",
    "lora_notifications",
    "lora_training_jobs",
    "lora_datasets",
    "job_counts",
    "webhook_endpoints",
    "account_limits",
)


def _with_database(url: str, dbname: str) -> str:
    return urlsplit(url)._replace(path=f"/{dbname}").geturl()


def _start_database() -> str:
    server_url = os.environ.get("DATABASE_URL")
    if not server_url:
        import pgserver

        data_dir = tempfile.mkdtemp(prefix="pipeline-test-pg-")
        server = pgserver.get_server(data_dir, cleanup_mode="stop")  # type: ignore[attr-defined]
        _state["pgserver"], _state["pgdata"] = server, data_dir
        server_url = server.get_uri()
    dbname = f"pipeline_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'create database "{dbname}"')  # a generated identifier, not input
    _state["server_url"], _state["dbname"] = server_url, dbname
    return _with_database(server_url, dbname)


def start() -> None:
    """Start the services once per run; every later call finds them running."""
    if "owner_url" in _state:
        return
    owner_url = _start_database()
    migrate(owner_url)
    _state["owner_url"] = owner_url
    # The functions connect as the application role, as in AWS: row level security applies to them.
    os.environ["DATABASE_URL"] = url_for_role(owner_url, APP_ROLE)

    from moto import mock_aws

    # SQS refuses a second purge of a queue within 60 s; a queue fixture purges before and after
    # every test.
    os.environ["MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR"] = "false"
    mock = mock_aws()
    mock.start()
    _state["moto"] = mock
    queues = create_queues(
        boto3.client("sqs", region_name="us-east-1"), boto3.client("sns", region_name="us-east-1")
    )
    create_artifacts_bucket(boto3.client("s3", region_name="us-east-1"))
    _state["queues"] = queues
    os.environ.update(queues.environment())
    _import_worker_functions()


def database_url_for_function(logical_id: str) -> str:
    """The URL of the role the function's template secret names, as the function connects in AWS:
    DatabaseSecretArn -> pipeline_app, WorkerDatabaseSecretArn -> pipeline_worker."""
    owner_url = str(_state["owner_url"])
    urls = {
        "DatabaseSecretArn": url_for_role(owner_url, APP_ROLE),
        "WorkerDatabaseSecretArn": url_for_role(owner_url, WORKER_ROLE),
    }
    for spec in _template_functions():
        if spec.logical_id == logical_id:
            return database_url_for(spec, urls)["DATABASE_URL"]
    return urls["DatabaseSecretArn"]  # no event source (the migrations' custom resource): the global


def _template_functions() -> list[FunctionSpec]:
    return template_functions(Path(__file__).resolve().parent.parent / "template.yaml")


def _import_worker_functions() -> None:
    """The functions whose secret names another role than the API's (the relay, the dispatcher) are
    imported once here with that role's URL, as in AWS: every test's `from functions.<name> import
    app` then finds them initialised so."""
    for spec in _template_functions():
        url = database_url_for_function(spec.logical_id)
        if url != os.environ["DATABASE_URL"]:
            with function_environment({"DATABASE_URL": url}):
                importlib.import_module(f"functions.{spec.code_dir.name}.{spec.handler_module}")


def stop() -> None:
    if "moto" in _state:
        _state.pop("moto").stop()
    if "dbname" in _state:
        # Function modules keep their connection open; end them so the database can be dropped.
        with psycopg.connect(_state["server_url"], autocommit=True) as admin:
            admin.execute(f'drop database if exists "{_state.pop("dbname")}" with (force)')
    if "pgserver" in _state:
        _state.pop("pgserver").cleanup()
        shutil.rmtree(_state.pop("pgdata"), ignore_errors=True)


def owner_database_url() -> str:
    """The test database as its owner: sees every row, as the dataset section and operators do."""
    return str(_state["owner_url"])


@pytest.fixture
def db() -> Iterator[psycopg.Connection[DictRow]]:
    """An owner's connection to the test database, with every table emptied first."""
    with psycopg.connect(owner_database_url(), autocommit=True, row_factory=dict_row) as conn:
        conn.execute(f"truncate {', '.join(TABLES)} restart identity cascade")  # constant names
        yield conn


@pytest.fixture(scope="session")
def worker_db() -> Iterator[Database]:
    """A database connection as the job reports consumer makes it (its template secret's role)."""
    database = Database(DatabaseSettings(DATABASE_URL=database_url_for_function("JobReportsFunction")))
    yield database
    database.close()


@pytest.fixture
def sqs_queue() -> Iterator["QueueReader"]:
    """The jobs queue, this test's own: empty before it, emptied after it."""
    with QueueReader(os.environ["JOBS_QUEUE_URL"]).owned() as reader:
        yield reader


def local_queues() -> LocalQueues:
    queues = _state["queues"]
    assert isinstance(queues, LocalQueues)
    return queues


@pytest.fixture
def worker_tasks_queue() -> Iterator["QueueReader"]:
    """The worker tasks queue (FIFO), this test's own."""
    with QueueReader(local_queues().worker_tasks).owned() as reader:
        yield reader


@pytest.fixture
def worker_control_queue() -> Iterator["QueueReader"]:
    """A worker host's subscription to the control topic, this test's own."""
    with QueueReader(local_queues().worker_control_host).owned() as reader:
        yield reader


class QueueReader:
    def __init__(self, queue_url: str) -> None:
        self.queue_url = queue_url
        self.client = boto3.client("sqs", region_name="us-east-1")

    def purge(self) -> None:
        """Drop every message on the queue: visible, in flight (received, not yet deleted) and delayed."""
        self.client.purge_queue(QueueUrl=self.queue_url)

    @contextmanager
    def owned(self) -> Iterator["QueueReader"]:
        """The queue for one test: nothing an earlier test sent or hid is on it, and nothing this test
        leaves behind survives it."""
        self.purge()
        try:
            yield self
        finally:
            self.purge()

    def receive_all(self) -> list["MessageTypeDef"]:
        """Every message now on the queue (received and deleted), oldest first as SQS returns them."""
        messages: list[MessageTypeDef] = []
        while True:
            batch = self.client.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=10,
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            ).get("Messages", [])
            if not batch:
                return messages
            for message in batch:
                self.client.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
            messages.extend(batch)


@dataclass
class CloudFormationEndpoint:
    """Stands in for the pre-signed S3 URL CloudFormation waits on."""

    url: str
    answers: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture
def cloudformation() -> Iterator[CloudFormationEndpoint]:
    endpoint = CloudFormationEndpoint(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            endpoint.answers.append(json.loads(body))
            endpoint.headers.append(dict(self.headers))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    endpoint.url = f"http://127.0.0.1:{server.server_address[1]}/stack-response?X-Amz-Signature=abc"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield endpoint
    server.shutdown()
    server.server_close()

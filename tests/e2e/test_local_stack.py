"""`make run` end to end over real HTTP: the stack on free ports with a temporary state folder."""

import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import jwt
import psycopg
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from local import auth_tokens, seeds
from local.dataset_uploads import DEMO_FILE
from local.stack_process import REPO_ROOT, Stack, http, run_cli, sqs_call, stack_env


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "sub": str(auth_tokens.user_id_for("alice")),
        "iss": auth_tokens.ISSUER,
        "aud": auth_tokens.AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "scope": "openid",
    }
    return {key: value for key, value in (claims | overrides).items() if value is not None}


def _signed_with_stack_key(stack: Stack, claims: dict[str, Any], **header: Any) -> str:
    key = auth_tokens.SigningKey.load_or_create(stack.state_dir)
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid} | header)


def _bad_tokens(stack: Stack) -> dict[str, str]:
    key = auth_tokens.SigningKey.load_or_create(stack.state_dir)
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    hs_header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": key.kid}).encode())
    hs_payload = _b64(json.dumps(_claims()).encode())
    hs_signature = _b64(hmac.new(public_pem, f"{hs_header}.{hs_payload}".encode(), hashlib.sha256).digest())
    none_header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": key.kid}).encode())
    return {
        "malformed": "not.a.jwt",
        "garbage": "abc",
        "bad-signature": jwt.encode(_claims(), other_key, algorithm="RS256", headers={"kid": key.kid}),
        "unknown-kid": jwt.encode(_claims(), other_key, algorithm="RS256", headers={"kid": "someone-else"}),
        "expired": _signed_with_stack_key(stack, _claims(exp=int(time.time()) - 60)),
        "not-yet-valid": _signed_with_stack_key(stack, _claims(nbf=int(time.time()) + 600)),
        "wrong-audience": _signed_with_stack_key(stack, _claims(aud="someone-elses-app")),
        "wrong-client-id": _signed_with_stack_key(stack, _claims(aud=None, client_id="someone-elses-app")),
        "wrong-issuer": _signed_with_stack_key(stack, _claims(iss="https://evil.example")),
        "no-exp": _signed_with_stack_key(stack, _claims(exp=None)),
        "alg-none": f"{none_header}.{hs_payload}.",
        "string-exp": _signed_with_stack_key(stack, _claims(exp=str(int(time.time()) + 600))),
        "string-nbf": _signed_with_stack_key(stack, _claims(nbf=str(int(time.time())))),
        "string-iat": _signed_with_stack_key(stack, _claims(iat=str(int(time.time())))),
        # An ID token: no scope claim at all.
        "id-token": _signed_with_stack_key(stack, _claims(scope=None, token_use="id")),
        "unrequired-scope": _signed_with_stack_key(stack, _claims(scope="email profile")),
        "hs256-with-public-key": f"{hs_header}.{hs_payload}.{hs_signature}",
    }


BAD_TOKEN_NAMES = [
    "malformed",
    "garbage",
    "bad-signature",
    "unknown-kid",
    "expired",
    "not-yet-valid",
    "wrong-audience",
    "wrong-client-id",
    "wrong-issuer",
    "no-exp",
    "alg-none",
    "hs256-with-public-key",
    "string-exp",
    "string-nbf",
    "string-iat",
    "id-token",
    "unrequired-scope",
]


def test_health_and_jwks_answer_without_a_token(stack: Stack) -> None:
    assert http("GET", f"{stack.api}/healthz").body == {"status": "ok"}
    keys = http("GET", f"{stack.api}/.well-known/jwks.json").body["keys"]
    assert [(k["kty"], k["alg"], k["use"]) for k in keys] == [("RSA", "RS256", "sig")]


def test_estimate_create_list_get_with_a_valid_token(stack: Stack, alice: dict[str, str]) -> None:
    token, dataset_id = alice["token"], alice["dataset_id"]
    gpu = {"type": "A100-80GB", "count": 2}
    hyper = {"batch_size": 4, "epochs": 3, "learning_rate": 0.00005, "rank": 16}

    estimate = http(
        "POST",
        f"{stack.api}/jobs/estimate",
        token=token,
        body={"dataset_id": dataset_id, "gpu_config": gpu, "hyperparameters": hyper},
    )
    assert estimate.status == 200, estimate.body
    assert estimate.body["data"]["estimated_cost"] == 5.94

    created = http(
        "POST",
        f"{stack.api}/jobs",
        token=token,
        body={
            "dataset_id": dataset_id,
            "preset_id": "balanced",
            "gpu_config": gpu,
            "hyperparameters": hyper,
            "estimated_cost": 5.94,
        },
    )
    assert created.status == 201, created.body
    job = created.body["data"]
    assert job["user_id"] == str(auth_tokens.user_id_for("alice"))

    listed = http("GET", f"{stack.api}/jobs?status=queued", token=token)
    assert listed.status == 200
    assert job["id"] in [j["id"] for j in listed.body["data"]["jobs"]]

    fetched = http("GET", f"{stack.api}/jobs/{job['id']}", token=token)
    assert fetched.status == 200
    assert fetched.body["data"]["dataset"]["name"] == "Alice's"

    # Another user's token sees none of it.
    bob = run_cli(stack.state_dir, "token", "--user", "bob").strip()
    assert http("GET", f"{stack.api}/jobs/{job['id']}", token=bob).status == 404


def test_created_jobs_message_arrives_on_the_local_queue(stack: Stack, alice: dict[str, str]) -> None:
    created = http(
        "POST",
        f"{stack.api}/jobs",
        token=alice["token"],
        body={
            "dataset_id": alice["dataset_id"],
            "preset_id": "fast",
            "gpu_config": {"type": "H100", "count": 1},
            "hyperparameters": {"batch_size": 8, "epochs": 1, "learning_rate": 0.0001, "rank": 8},
            "estimated_cost": http(
                "POST",
                f"{stack.api}/jobs/estimate",
                token=alice["token"],
                body={
                    "dataset_id": alice["dataset_id"],
                    "gpu_config": {"type": "H100", "count": 1},
                    "hyperparameters": {"batch_size": 8, "epochs": 1, "learning_rate": 0.0001, "rank": 8},
                },
            ).body["data"]["estimated_cost"],
        },
    )
    assert created.status == 201, created.body

    assert created.body["data"]["id"] in _queued_job_ids(stack, until=created.body["data"]["id"])


@pytest.mark.parametrize("name", BAD_TOKEN_NAMES)
def test_bad_token_is_rejected_before_any_function_runs(
    stack: Stack, alice: dict[str, str], name: str
) -> None:
    token = _bad_tokens(stack)[name]
    before = http("GET", f"{stack.api}/jobs", token=alice["token"]).body["data"]["pagination"]["total"]

    response = http(
        "POST",
        f"{stack.api}/jobs",
        token=token,
        body={
            "dataset_id": alice["dataset_id"],
            "preset_id": "fast",
            "gpu_config": {"type": "H100", "count": 1},
            "hyperparameters": {"batch_size": 8, "epochs": 1, "learning_rate": 0.0001, "rank": 8},
            "estimated_cost": 0,
        },
    )

    assert response.status == 401
    assert response.body == {"message": "Unauthorized"}
    assert (
        http("GET", f"{stack.api}/jobs", token=alice["token"]).body["data"]["pagination"]["total"] == before
    )


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz"])
def test_missing_bearer_token_is_rejected(stack: Stack, authorization: str | None) -> None:
    response = http("GET", f"{stack.api}/jobs", raw_token=authorization)

    assert response.status == 401
    assert response.body == {"message": "Unauthorized"}


def test_unknown_route_is_not_found_like_api_gateway(stack: Stack, alice: dict[str, str]) -> None:
    for method, path in [("GET", "/nope"), ("DELETE", "/jobs"), ("GET", "/jobs/estimate/extra")]:
        response = http(method, f"{stack.api}{path}", token=alice["token"])
        assert (response.status, response.body) == (404, {"message": "Not Found"}), (method, path)


def test_printed_curl_commands_work_as_printed(stack: Stack) -> None:
    assert shutil.which("curl"), "curl is needed to run the printed commands"
    lines = [line.strip() for line in stack.stdout if line.strip().startswith(("export ", "curl "))]
    assert [line.split()[0] for line in lines] == ["export", "export", "curl", "curl", "curl", "curl"]

    outputs = []
    for command in lines[2:]:
        script = "\n".join([*lines[:2], command])
        result = subprocess.run(
            ["bash", "-c", script], capture_output=True, text=True, timeout=30, check=True
        )
        assert result.stdout.endswith("}\n"), command  # the prompt starts on a line of its own
        outputs.append(json.loads(result.stdout))

    estimate, created, listed, webhook = outputs
    # The demo's dataset is its uploaded file's figures: the printed create carries the estimate they give.
    assert estimate["data"]["training_details"]["dataset_name"] == "Customer support v1"
    assert created["data"]["status"] == "queued"
    assert created["data"]["estimated_total_cost"] == estimate["data"]["estimated_cost"]
    assert created["data"]["id"] in [job["id"] for job in listed["data"]["jobs"]]
    assert any("not-ready dataset:" in line for line in stack.stdout)
    # The receiver `make webhook-receiver` starts, registered for every event type; its secret shown.
    assert webhook["data"]["url"] == "http://127.0.0.1:9400/pipeline"
    assert len(webhook["data"]["events"]) == 4
    assert webhook["data"]["secret"].startswith("whsec_")


def test_make_dataset_prints_the_id_alone_and_the_page_address_beside_it(stack: Stack) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "local", "dataset", "--user", "ivan", "--pairs", "100", "--tokens", "9000"],
        env=stack_env(stack.state_dir) | {"PORT": str(stack.port)},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )

    dataset_id = str(uuid.UUID(result.stdout.strip()))  # stdout: the id, nothing else
    assert result.stdout == f"{dataset_id}\n"
    assert f"page: {stack.api}/training/configure?datasetId={dataset_id}" in result.stderr


def test_make_token_prints_only_a_token_for_a_stable_user(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MAKEFLAGS"} | {"PIPELINE_STATE_DIR": str(tmp_path)}
    outputs = [
        subprocess.run(
            ["make", "-s", "token", "USER=carol"],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        ).stdout
        for _ in range(2)
    ]

    key = auth_tokens.SigningKey.load_or_create(tmp_path)
    subs = set()
    for output in outputs:
        assert re.fullmatch(r"[\w-]+\.[\w-]+\.[\w-]+\n", output), output
        subs.add(auth_tokens.verify(output.strip(), key.jwks())["sub"])
    assert subs == {str(auth_tokens.user_id_for("carol"))}


HELLO_FUNCTION = """
import json


def lambda_handler(event, context):
    claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    body = {"name": event["pathParameters"]["name"], "routeKey": event["routeKey"], "sub": claims["sub"]}
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}
"""


def test_route_added_to_a_copy_of_the_template_is_served(tmp_path: Path) -> None:
    hello = tmp_path / "hello"
    hello.mkdir()
    (hello / "app.py").write_text(HELLO_FUNCTION)
    template = (
        (REPO_ROOT / "template.yaml")
        .read_text()
        .replace("CodeUri: functions/", f"CodeUri: {REPO_ROOT}/functions/")
    )
    template = template.replace(
        "\nOutputs:",
        (
            "\n  HelloFunction:\n    Type: AWS::Serverless::Function\n    Properties:\n"
            f"      CodeUri: {hello}/\n      Handler: app.lambda_handler\n      Events:\n"
            "        Hello:\n          Type: HttpApi\n          Properties:\n"
            "            ApiId: !Ref HttpApi\n            Method: GET\n            Path: /hello/{name}\n"
            "\nOutputs:"
        ),
    )
    (tmp_path / "template.yaml").write_text(template)
    state = tmp_path / "state"

    copy = Stack.start(state, "--template", str(tmp_path / "template.yaml"))
    try:
        token = run_cli(state, "token", "--user", "dave").strip()
        response = http("GET", f"{copy.api}/hello/world", token=token)
        assert response.status == 200
        assert response.body == {
            "name": "world",
            "routeKey": "GET /hello/{name}",
            "sub": str(auth_tokens.user_id_for("dave")),
        }
        assert http("GET", f"{copy.api}/hello/world").status == 401
    finally:
        code, _ = copy.stop()
    assert code == 0


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited, only its entry remains


def test_stack_stops_cleanly_and_leaves_no_process_behind(tmp_path: Path) -> None:
    stack = Stack.start(tmp_path)
    postmaster_pid = int((tmp_path / "pgdata" / "postmaster.pid").read_text().split()[0])
    assert _alive(postmaster_pid)

    code, stderr = stack.stop()

    assert code == 0, stderr
    assert "stopped" in stderr
    assert not (tmp_path / "pgdata" / "postmaster.pid").exists()
    # `pg_ctl stop -w` returns when the pid file is gone; the process itself ends a moment later.
    deadline = time.monotonic() + 10
    while _alive(postmaster_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(postmaster_pid)
    for port in (stack.port, stack.sqs_port):
        with pytest.raises(urllib.error.URLError, match="Connection refused"):
            http("GET", f"http://127.0.0.1:{port}/healthz")


def test_local_stack_runs_the_outbox_relay(stack: Stack, alice: dict[str, str]) -> None:
    # A job whose send after commit never happened (process killed): only its outbox row is pending.
    database_url = stack.owner_database_url
    job_id = str(uuid.uuid4())
    body = json.dumps({"type": "training_job.queued", "version": 1, "job_id": job_id})
    with psycopg.connect(database_url, autocommit=True) as conn:
        user_id = conn.execute(
            "select user_id from lora_datasets where id = %s", (alice["dataset_id"],)
        ).fetchone()
        assert user_id is not None
        conn.execute(
            "insert into lora_training_jobs (id, user_id, dataset_id, preset_id, status, total_epochs,"
            " total_steps, gpu_config, hyperparameters, estimated_total_cost, pricing_version)"
            " values (%s, %s, %s, 'fast', 'queued', 1, 1, '{}', '{}', 1, 'v')",
            (job_id, user_id[0], alice["dataset_id"]),
        )
        conn.execute(
            "insert into job_queue_outbox (job_id, message_type, message_version, body, created_at)"
            " values (%s, 'training_job.queued', 1, %s, now() - interval '1 minute')",
            (job_id, body),
        )

    assert job_id in _queued_job_ids(stack, until=job_id)


def _queued_job_ids(stack: Stack, *, until: str, timeout_s: float = 20) -> list[str]:
    queue_url = f"{stack.sqs}/123456789012/pipeline-jobs"
    job_ids: list[str] = []
    deadline = time.monotonic() + timeout_s
    while until not in job_ids and time.monotonic() < deadline:
        received = sqs_call(stack.sqs, "ReceiveMessage", {"QueueUrl": queue_url, "MaxNumberOfMessages": 10})
        job_ids += [json.loads(m["Body"])["job_id"] for m in received.get("Messages", [])]
        time.sleep(0.2)
    return job_ids


def test_local_stack_runs_the_queue_consumer_so_created_jobs_get_claimed(tmp_path: Path) -> None:
    # Queue consumers on, as `make run` starts it; no simulated worker: this test sends the report itself.
    running = Stack.start(tmp_path, "--no-worker")
    try:
        assert (
            "Queue consumers: WebhookDeliveryFunction <- pipeline-webhook-deliveries,"
            " JobDispatcherFunction <- pipeline-jobs, JobReportsFunction <- pipeline-job-reports.fifo,"
            " DatasetValidatorFunction <- pipeline-dataset-uploads"
        ) in running.stdout
        token = run_cli(tmp_path, "token", "--user", "erin").strip()
        dataset_id = run_cli(tmp_path, "dataset", "--user", "erin", "--pairs", "5000", "--tokens", "1200000")
        body = {
            "dataset_id": dataset_id.strip(),
            "preset_id": "balanced",
            "gpu_config": {"type": "A100-80GB", "count": 2},
            "hyperparameters": {"batch_size": 4, "epochs": 3, "learning_rate": 0.00005, "rank": 16},
            "estimated_cost": 5.94,
        }
        created = http("POST", f"{running.api}/jobs", token=token, body=body)
        assert created.status == 201, created.body
        job_url = f"{running.api}/jobs/{created.body['data']['id']}"

        deadline = time.monotonic() + 20
        status = created.body["data"]["status"]
        while status == "queued" and time.monotonic() < deadline:
            time.sleep(0.2)
            status = http("GET", job_url, token=token).body["data"]["status"]
        assert status == "initializing"  # JobDispatcherFunction claimed it from the local queue

        # A worker's report through the local FIFO reports queue: JobReportsFunction starts the job.
        job = created.body["data"]
        report = {
            "type": "training_job.started",
            "version": 1,
            "job_id": job["id"],
            "user_id": job["user_id"],
            "sequence": 1,
            "sent_at": "2026-12-02T12:00:00Z",
            "worker_id": "local-test",
        }
        sqs_call(
            running.sqs,
            "SendMessage",
            {
                "QueueUrl": f"{running.sqs}/123456789012/pipeline-job-reports.fifo",
                "MessageBody": json.dumps(report),
                "MessageGroupId": job["id"],
                "MessageDeduplicationId": f"{job['id']}:1",
            },
        )
        deadline = time.monotonic() + 20
        while status == "initializing" and time.monotonic() < deadline:
            time.sleep(0.2)
            status = http("GET", job_url, token=token).body["data"]["status"]
        assert status == "running"

        # A message no retry can help is acknowledged: it leaves the queue and never reaches the DLQ.
        queue = f"{running.sqs}/123456789012/pipeline-jobs"
        sqs_call(running.sqs, "SendMessage", {"QueueUrl": queue, "MessageBody": "not a job message"})
        assert _wait_until_empty(running, queue)
        assert _wait_until_empty(running, f"{running.sqs}/123456789012/pipeline-jobs-dlq", timeout_s=0)
        assert any("JobDispatcherFunction: 1 handled, 0 left for retry" in line for line in running.stderr)
    finally:
        running.stop()


def _wait_until_empty(stack: Stack, queue_url: str, timeout_s: float = 20) -> bool:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    deadline = time.monotonic() + timeout_s
    while True:
        attributes = sqs_call(
            stack.sqs, "GetQueueAttributes", {"QueueUrl": queue_url, "AttributeNames": names}
        )
        if all(attributes["Attributes"][name] == "0" for name in names):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)


def test_the_demo_dataset_is_its_uploaded_file_validated_even_without_queue_consumers(stack: Stack) -> None:
    # The session's stack runs no queue consumers; the seed still drives the validator for its own upload.
    token = run_cli(stack.state_dir, "token").strip()
    content = DEMO_FILE.read_bytes()

    answer = http("GET", f"{stack.api}/datasets/{seeds.DEMO_READY_DATASET}", token=token)

    assert answer.status == 200, answer.body
    demo = answer.body["data"]
    assert (demo["status"], demo["ready_for_training"]) == ("ready", True)
    assert (demo["sha256"], demo["size_bytes"]) == (hashlib.sha256(content).hexdigest(), len(content))
    assert (demo["examples"], demo["held_out"], demo["total_training_pairs"]) == (400, 20, 380)
    assert any("s3 pipeline-datasets-local: ObjectCreated:Post users/" in line for line in stack.stderr)
    processing = http("GET", f"{stack.api}/datasets/{seeds.DEMO_PROCESSING_DATASET}", token=token)
    assert processing.body["data"]["status"] == "processing"


def test_get_datasets_is_the_apis_route_and_the_datasets_page_lives_elsewhere(
    stack: Stack, alice: dict[str, str]
) -> None:
    listed = http("GET", f"{stack.api}/datasets", token=alice["token"])
    assert listed.status == 200, listed.body
    assert alice["dataset_id"] in [dataset["id"] for dataset in listed.body["data"]["datasets"]]
    assert http("GET", f"{stack.api}/datasets").status == 401  # the authorizer's, like any route

    config = http("GET", f"{stack.api}/config.json").body
    assert config["datasetsUrl"] == "/training/datasets"
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{stack.api}{config['datasetsUrl']}", headers={"Accept": "text/html"}
    )
    with urllib.request.urlopen(request, timeout=10) as page:  # noqa: S310 - loopback
        assert page.status == 200
        assert "<title>Datasets · PIPELINE</title>" in page.read().decode()

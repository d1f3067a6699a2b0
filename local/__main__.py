"""python -m local run | token | dataset  (used by `make run`, `make token`, `make dataset`)."""

import argparse
import json
import logging
import os
import secrets
import shlex
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING
from uuid import UUID

from local import auth_tokens, seeds
from local.local_database import running_database
from local.state import REPO_ROOT, state_dir

if TYPE_CHECKING:
    import uvicorn

    from local.gateway import Gateway
    from local.local_database import DatabaseUrls
    from local.sqs_server import LocalSqs
    from pipeline.datasets.repository import Dataset

log = logging.getLogger("pipeline.local")
_DEMO_VALIDATION_S = 60  # the demo file validates in about a second; a first start loads more


def _demo_dataset(app_database_url: str, user_id: UUID, dataset_id: UUID) -> "Dataset | None":
    """The demo's ready dataset as the API reads it (figures from its validated file)."""
    from pipeline.datasets import repository as datasets_repository
    from pipeline.db.database import Database, DatabaseSettings

    database = Database(DatabaseSettings(DATABASE_URL=app_database_url))
    try:
        with database.tenant_transaction(user_id) as conn:
            found = datasets_repository.find_for_user(conn, dataset_id, user_id)
        return found.result()
    finally:
        database.close()


def _demo_commands(api: str, token: str, dataset: "Dataset") -> str:
    from pipeline.catalog.configuration import EstimateHyperparameters, GpuConfig
    from pipeline.pricing.estimates import estimate_for_dataset

    ready, processing = seeds.demo_datasets(auth_tokens.user_id_for(seeds.DEMO_USER))
    base_model = "mistral-nemo-12b"
    gpu = {"type": "A100-80GB", "count": 2}
    hyperparameters = {"batch_size": 4, "epochs": 3, "learning_rate": 0.00005, "rank": 16}
    estimate = estimate_for_dataset(
        dataset,
        base_model,
        GpuConfig.model_validate(gpu),
        EstimateHyperparameters.model_validate(hyperparameters),
    )
    estimate_body = {
        "dataset_id": str(ready.id),
        "base_model": base_model,
        "gpu_config": gpu,
        "hyperparameters": hyperparameters,
    }
    create_body = estimate_body | {
        "preset_id": "balanced",
        "hyperparameters": hyperparameters | {"alpha": 32, "dropout": 0.1},
        "estimated_cost": float(estimate.estimated_cost),
    }
    webhook_body = {
        "url": "http://127.0.0.1:9400/pipeline",
        "events": ["job.status_changed", "job.completed", "job.failed", "job.cancelled"],
    }
    auth = '-H "Authorization: Bearer $TOKEN"'
    # -w '\n': the answer ends its line, so the shell prompt starts on the next one.
    post = f"curl -sS -w '\\n' -X POST {auth} -H 'Content-Type: application/json'"
    return "\n".join(
        [
            f"  export API={api}",
            f"  export TOKEN={token}",
            "",
            "  # estimate",
            f'  {post} "$API/jobs/estimate" -d {shlex.quote(json.dumps(estimate_body))}',
            "  # create",
            f'  {post} "$API/jobs" -d {shlex.quote(json.dumps(create_body))}',
            "  # list",
            f"  curl -sS -w '\\n' \"$API/jobs\" {auth}",
            "  # webhooks: register a receiver (its secret is in the answer), then, in another terminal,",
            "  #   make webhook-receiver SECRET=whsec_...   prints each signed event of your jobs",
            f'  {post} "$API/webhooks" -d {shlex.quote(json.dumps(webhook_body))}',
            "",
            f"  demo user: {seeds.DEMO_USER} ({ready.user_id})",
            f"  ready dataset:     {ready.id}  ({ready.name}: {_figures(dataset)})",
            f"  not-ready dataset: {processing.id}  ({processing.name})",
            "  upload a JSONL file as a dataset (in another terminal): make dataset FILE=path.jsonl",
        ]
    )


def _figures(dataset: "Dataset") -> str:
    from local.dataset_uploads import DEMO_FILE

    if dataset.source_key is None:
        return f"{dataset.total_training_pairs or 0:,} examples, made-up figures"
    return (
        f"local/demo/{DEMO_FILE.name} validated, {dataset.total_training_pairs or 0:,} examples to train on"
        f" and {dataset.held_out or 0:,} held out"
    )


def _seed_demo_upload(gateway: "Gateway", sqs: "LocalSqs", urls: "DatabaseUrls", user_id: UUID) -> None:
    """Upload the demo file as the demo user's ready dataset, and have DatasetValidatorFunction validate it
    from the dataset uploads queue now, whether or not the queue consumers run afterwards."""
    from local.dataset_uploads import seed_demo_dataset
    from local.queue_consumers import consumers_for
    from local.sqs_server import DATASET_UPLOADS_QUEUE, REGION

    validators = consumers_for(
        gateway.functions,
        {"DatasetUploadsQueue": sqs.queue_url(DATASET_UPLOADS_QUEUE)},
        sqs.client(),
        REGION,
    )
    if not validators:
        log.warning("nothing consumes DatasetUploadsQueue in this template: the demo dataset stays uploading")

    def validate(done: Callable[[], bool]) -> None:
        deadline = time.monotonic() + _DEMO_VALIDATION_S
        while not done():
            if time.monotonic() > deadline or not validators:
                raise TimeoutError
            for validator in validators:
                validator.poll_once()

    started = time.monotonic()
    try:
        row = seed_demo_dataset(
            urls.app,
            urls.owner,
            user_id,
            seeds.DEMO_READY_DATASET,
            seeds.DEMO_READY_NAME,
            region=REGION,
            validate=validate,
        )
    except TimeoutError:
        row = None
    if row is None:
        log.warning("the demo dataset's upload was not validated within %d s", _DEMO_VALIDATION_S)
        return
    log.info(
        "demo dataset %s: %s, %s examples (%s held out), %s bytes, validated in %.1f s",
        seeds.DEMO_READY_DATASET,
        row["status"],
        row["examples"],
        row["held_out"],
        row["size_bytes"],
        time.monotonic() - started,
    )


class _GracefulServer:
    """uvicorn, stopped by SIGINT/SIGTERM without uvicorn re-raising the signal afterwards: the
    re-raised SIGTERM would kill this process before it stops the local SQS and PostgreSQL."""

    def __init__(self, config: "uvicorn.Config") -> None:
        import uvicorn

        class Server(uvicorn.Server):
            @contextmanager
            def capture_signals(self) -> Iterator[None]:
                yield  # signals are handled below

        self.server = Server(config)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.server.should_exit:
            self.server.force_exit = True  # a second Ctrl-C skips waiting for open connections
        self.server.should_exit = True

    def run(self) -> None:
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.server.run()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from local.gateway import Gateway, create_app
    from local.gpu_worker import Queues, SimulatedGpuWorker, WorkerSettings
    from local.queue_consumers import QueueConsumer, consumers_for
    from local.sqs_server import LOGICAL_IDS, REGION, LocalSqs
    from local.web_pages import not_found_page, web_routes

    state = state_dir()
    key = auth_tokens.SigningKey.load_or_create(state)
    os.environ.setdefault("PAGINATION_CURSOR_SECRET", _cursor_secret(state))
    # Webhooks to a receiver on this machine (http://127.0.0.1:...); in AWS only https to public hosts.
    os.environ.setdefault("WEBHOOKS_ALLOW_LOCAL_RECEIVERS", "true")
    # EMF metric lines are CloudWatch's input; on a terminal they only bury the banner and the logs.
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    # The simulated worker's GPU time runs WORKER_SPEED times faster than the clock: the reports
    # consumer's bound on what a job can have used allows for it (1, real time, when deployed).
    os.environ.setdefault("WORKER_TIME_SCALE", f"{max(args.worker_speed, 1):g}")
    with running_database(state) as urls:
        os.environ["DATABASE_URL"] = urls.app
        user_id = auth_tokens.user_id_for(seeds.DEMO_USER)
        ready_seed, processing_seed = seeds.demo_datasets(user_id)
        seeds.insert_dataset(urls.owner, processing_seed)

        sqs: LocalSqs | None = None
        worker_stop = threading.Event()
        worker_thread: threading.Thread | None = None
        if not os.environ.get("JOBS_QUEUE_URL"):
            sqs = LocalSqs(port=args.sqs_port).start()
            queues = sqs.create_queues()
            os.environ.update(
                queues.environment()
                | {
                    "AWS_ENDPOINT_URL": sqs.endpoint_url,
                    "AWS_REGION": REGION,
                    "AWS_DEFAULT_REGION": REGION,
                    "AWS_ACCESS_KEY_ID": "local",
                    "AWS_SECRET_ACCESS_KEY": "local",
                }
            )
            log.info("local SQS and SNS on %s, jobs queue %s", sqs.endpoint_url, queues.jobs)
            if args.worker and args.queue_consumers:
                # Only the contract: the worker reads the tasks and control queues and sends reports.
                worker = SimulatedGpuWorker(
                    sqs.client(),
                    Queues(
                        tasks=queues.worker_tasks, control=queues.worker_control_host, reports=queues.reports
                    ),
                    WorkerSettings(speed=args.worker_speed, fail_rate=args.worker_fail_rate),
                    s3=sqs.s3_client(),
                )
                worker_thread = threading.Thread(
                    target=worker.serve, args=(worker_stop,), name="gpu-worker", daemon=True
                )
        else:
            # No local S3 to upload the demo file to: the demo's ready dataset is a row of figures.
            seeds.insert_dataset(urls.owner, ready_seed)
        try:
            log.info("loading the functions of %s", args.template)
            gateway = Gateway(Path(args.template), key.jwks(), urls.by_secret_parameter())
            api = f"http://127.0.0.1:{args.port}"
            if sqs is not None:
                _seed_demo_upload(gateway, sqs, urls, user_id)
            demo = _demo_dataset(urls.app, user_id, seeds.DEMO_READY_DATASET)
            consumers: list[QueueConsumer] = []
            # Only the local queues: consuming from a queue given by JOBS_QUEUE_URL could take messages
            # meant for someone else's job processing.
            if sqs is not None and args.queue_consumers:
                queue_urls = {logical_id: sqs.queue_url(name) for logical_id, name in LOGICAL_IDS.items()}
                consumers = consumers_for(gateway.functions, queue_urls, sqs.client(), REGION)

            def banner() -> None:
                routes = ", ".join(r.route_key for f in gateway.functions for r in f.spec.routes)
                scheduled = ", ".join(f.spec.logical_id for f in gateway.scheduled)
                print(f"\nPIPELINE training-jobs API on {api}  ({routes})", flush=True)
                print(f"Scheduled every {args.schedule_interval:g} s: {scheduled or 'nothing'}", flush=True)
                fed = ", ".join(f"{c.name} <- {c.queue_url.rsplit('/', 1)[-1]}" for c in consumers)
                print(f"Queue consumers: {fed or 'none'}", flush=True)
                if worker_thread is not None:
                    print(
                        f"Simulated GPU worker: WORKER_SPEED={args.worker_speed:g} simulated s per s, "
                        f"WORKER_FAIL_RATE={args.worker_fail_rate:g}",
                        flush=True,
                    )
                if demo is not None and demo.ready_for_training:
                    commands = _demo_commands(api, key.mint(seeds.DEMO_USER), demo)
                    print("Copy and paste:\n" + commands, flush=True)
                else:
                    print("The demo dataset is not ready (the log says why): no commands to copy", flush=True)
                ready = seeds.DEMO_READY_DATASET
                print(f"\nThe page (sign in as {seeds.DEMO_USER}):", flush=True)
                print(f"  {api}/training/configure?datasetId={ready}", flush=True)
                print("\nCtrl-C stops everything.\n", flush=True)

            config = uvicorn.Config(
                create_app(
                    gateway,
                    on_startup=banner,
                    schedule_interval_s=args.schedule_interval,
                    web_routes=web_routes(key, urls.owner),
                    queue_consumers=consumers,
                    page_not_found=not_found_page,
                ),
                host="127.0.0.1",
                port=args.port,
                log_level="warning",
                lifespan="on",
            )
            if worker_thread is not None:
                worker_thread.start()
            _GracefulServer(config).run()
        finally:
            worker_stop.set()
            if worker_thread is not None and worker_thread.is_alive():
                worker_thread.join(timeout=5)
            if sqs is not None:
                sqs.stop()
    log.info("stopped")
    return 0


def _cursor_secret(state: Path) -> str:
    """Generated once into the state folder, so cursors stay valid across restarts."""
    path = state / "pagination-cursor-secret"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def token(args: argparse.Namespace) -> int:
    print(auth_tokens.SigningKey.load_or_create(state_dir()).mint(args.user, ttl_s=args.ttl))
    return 0


def dataset(args: argparse.Namespace) -> int:
    if args.file is not None:
        return _upload_dataset(args)
    if args.pairs is None or args.tokens is None:
        print("python -m local dataset: --file PATH, or --pairs N --tokens N", file=sys.stderr)
        return 2
    seed = seeds.DatasetSeed(
        user_id=auth_tokens.user_id_for(args.user),
        name=args.name or "Local dataset",
        total_training_pairs=args.pairs,
        total_tokens=args.tokens,
        status=args.status,
        training_ready=args.ready == "true",
    )
    with running_database(state_dir()) as urls:
        dataset_id = seeds.insert_dataset(urls.owner, seed)
    print(dataset_id)  # stdout stays the id alone, for scripts
    port = os.environ.get("PORT") or 3000
    print(f"page: http://127.0.0.1:{port}/training/configure?datasetId={dataset_id}", file=sys.stderr)
    return 0


def _upload_dataset(args: argparse.Namespace) -> int:
    """`make dataset FILE=...`: the file uploaded through the running stack's API as the page uploads it;
    the new dataset's id on stdout once validated, what validation found on stderr."""
    import httpx

    from local.dataset_uploads import UploadRefused, describe, upload

    path = Path(args.file)
    if not path.is_file():
        print(f"{path}: no such file", file=sys.stderr)
        return 2
    api = f"http://127.0.0.1:{os.environ.get('PORT') or 3000}"
    token = auth_tokens.SigningKey.load_or_create(state_dir()).mint(args.user)
    try:
        uploaded = upload(
            api,
            token,
            path,
            args.name or path.stem,
            timeout_s=args.timeout,
            on_progress=lambda message: print(message, file=sys.stderr),
        )
    except (OSError, httpx.TransportError) as error:  # urllib's URLError is an OSError
        print(f"{api} does not answer ({error}): is `make run` running (PORT=...)?", file=sys.stderr)
        return 2
    except (UploadRefused, TimeoutError) as error:
        print(error, file=sys.stderr)
        return 1
    print(uploaded.id)  # stdout stays the id alone, for scripts
    for line in describe(uploaded.dataset):
        print(line, file=sys.stderr)
    if uploaded.dataset["status"] != "ready":
        return 1
    print(f"validated in {uploaded.seconds:.1f} s", file=sys.stderr)
    print(f"page: {api}/training/configure?datasetId={uploaded.id}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run_parser = commands.add_parser("run", help="the whole API on this machine")
    run_parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 3000))
    run_parser.add_argument("--sqs-port", type=int, default=int(os.environ.get("SQS_PORT") or 9324))
    run_parser.add_argument("--template", default=str(REPO_ROOT / "template.yaml"))
    run_parser.add_argument(
        "--schedule-interval",
        type=float,
        default=float(os.environ.get("LOCAL_SCHEDULE_INTERVAL") or 5),
        help="seconds between runs of scheduled functions (the outbox relay)",
    )
    run_parser.add_argument(
        "--no-queue-consumers",
        dest="queue_consumers",
        action="store_false",
        help="leave messages on the local queues (functions with SQS events are not invoked)",
    )
    run_parser.add_argument(
        "--worker-speed",
        type=float,
        default=float(os.environ.get("WORKER_SPEED") or 90),
        help="the simulated GPU worker's simulated seconds per real second (90: a Fast job on the demo "
        "dataset in about 15 s)",
    )
    run_parser.add_argument(
        "--worker-fail-rate",
        type=float,
        default=float(os.environ.get("WORKER_FAIL_RATE") or 0),
        help="the share of jobs (0..1) the simulated worker fails part-way",
    )
    run_parser.add_argument(
        "--no-worker",
        dest="worker",
        action="store_false",
        help="no simulated GPU worker: assigned jobs wait on the local worker tasks queue",
    )
    run_parser.set_defaults(handler=run)

    token_parser = commands.add_parser("token", help="print a bearer token for a user")
    token_parser.add_argument("--user", default=seeds.DEMO_USER, help="a name or a UUID")
    token_parser.add_argument("--ttl", type=int, default=auth_tokens.DEFAULT_TTL_S, help="seconds")
    token_parser.set_defaults(handler=token)

    dataset_parser = commands.add_parser(
        "dataset",
        help="upload a JSONL file as a dataset through the running stack (--file), or insert a row with"
        " made-up figures (--pairs and --tokens, for tests); print its id",
    )
    dataset_parser.add_argument("--user", default=seeds.DEMO_USER, help="a name or a UUID")
    dataset_parser.add_argument("--file", help="a JSONL file: POST /datasets, its upload form, validation")
    dataset_parser.add_argument("--name", help="the dataset's name (default: the file's name)")
    dataset_parser.add_argument(
        "--timeout", type=float, default=600, help="seconds to wait for the validation (--file)"
    )
    dataset_parser.add_argument("--pairs", type=int, help="made-up training pairs (with --tokens)")
    dataset_parser.add_argument("--tokens", type=int, help="made-up tokens (with --pairs)")
    dataset_parser.add_argument("--status", choices=["ready", "processing"], default="ready")
    dataset_parser.add_argument("--ready", choices=["true", "false"], default="true")
    dataset_parser.set_defaults(handler=dataset)

    args = parser.parse_args(argv)
    # pgserver asks platformdirs for a runtime folder; without XDG_RUNTIME_DIR it warns, harmlessly.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
    # Requests and queue messages go to stderr; stdout carries only what a script asked for.
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S", stream=sys.stderr
    )
    # Only our own lines: requests, queue messages, lifecycle. The libraries' chatter is not for humans.
    for noisy in ("pgserver", "werkzeug", "botocore", "mangum", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())

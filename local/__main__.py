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
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from local import auth_tokens, seeds
from local.local_database import running_database
from local.state import REPO_ROOT, state_dir

if TYPE_CHECKING:
    import uvicorn

log = logging.getLogger("pipeline.local")


def _demo_commands(api: str, token: str) -> str:
    from pipeline.catalog.configuration import EstimateHyperparameters, GpuConfig
    from pipeline.datasets.repository import Dataset
    from pipeline.pricing.estimates import estimate_for_dataset

    ready, processing = seeds.demo_datasets(auth_tokens.user_id_for(seeds.DEMO_USER))
    base_model = "mistral-nemo-12b"
    gpu = {"type": "A100-80GB", "count": 2}
    hyperparameters = {"batch_size": 4, "epochs": 3, "learning_rate": 0.00005, "rank": 16}
    dataset = Dataset(
        id=ready.id or ready.user_id,
        user_id=ready.user_id,
        name=ready.name,
        format=ready.format,
        status=ready.status,
        training_ready=ready.training_ready,
        total_training_pairs=ready.total_training_pairs,
        total_tokens=ready.total_tokens,
    )
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
            f"  ready dataset:     {ready.id}  ({ready.name})",
            f"  not-ready dataset: {processing.id}  ({processing.name})",
        ]
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
        for seed in seeds.demo_datasets(user_id):
            seeds.insert_dataset(urls.owner, seed)

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
        try:
            log.info("loading the functions of %s", args.template)
            gateway = Gateway(Path(args.template), key.jwks(), urls.by_secret_parameter())
            api = f"http://127.0.0.1:{args.port}"
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
                print("Copy and paste:\n" + _demo_commands(api, key.mint(seeds.DEMO_USER)), flush=True)
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
    seed = seeds.DatasetSeed(
        user_id=auth_tokens.user_id_for(args.user),
        name=args.name,
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
        "dataset in about 20 s)",
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

    dataset_parser = commands.add_parser("dataset", help="insert a dataset and print its id")
    dataset_parser.add_argument("--user", default=seeds.DEMO_USER, help="a name or a UUID")
    dataset_parser.add_argument("--pairs", type=int, required=True)
    dataset_parser.add_argument("--tokens", type=int, required=True)
    dataset_parser.add_argument("--status", choices=["ready", "processing"], default="ready")
    dataset_parser.add_argument("--ready", choices=["true", "false"], default="true")
    dataset_parser.add_argument("--name", default="Local dataset")
    dataset_parser.set_defaults(handler=dataset)

    args = parser.parse_args(argv)
    # pgserver asks platformdirs for a runtime folder; without XDG_RUNTIME_DIR it warns, harmlessly.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
    # Requests and queue messages go to stderr; stdout carries only what a script asked for.
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S", stream=sys.stderr
    )
    # Only our own lines: requests, queue messages, lifecycle. The libraries' chatter is not for humans.
    for noisy in ("pgserver", "werkzeug", "botocore", "mangum"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())

"""A Python client generated from schemas/openapi.json by openapi-python-client, as a user of the API
would make one, used against the local stack: every operation, typed answers, typed errors.

Run in `make test`: a document that generates a client which cannot page by cursor, parses an answer
wrongly or sends a parameter the API refuses fails here, not in a user's integration."""

import importlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from local.stack_process import REPO_ROOT, Stack, run_cli

PACKAGE = "pipeline_client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The client package, generated into a temporary folder and imported from there."""
    root = tmp_path_factory.mktemp("generated-client")
    bin_dir = Path(sys.executable).parent
    subprocess.run(
        [
            str(bin_dir / "openapi-python-client"),
            "generate",
            "--path",
            str(REPO_ROOT / "schemas" / "openapi.json"),
            "--meta",
            "none",
            "--output-path",
            str(root / PACKAGE),
        ],
        # Its post-generation step formats with ruff: the locked one, from this environment.
        env=os.environ | {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


class Api:
    """The generated modules by name: api.call("list_jobs", page=1) is
    list_jobs.sync_detailed(client=..., page=1)."""

    def __init__(self, client: Any, user: str) -> None:
        self.client = client
        self.user = user

    def model(self, name: str) -> Any:
        return getattr(importlib.import_module(f"{PACKAGE}.models"), name)

    def call(self, operation: str, **kwargs: Any) -> Any:
        module = importlib.import_module(f"{PACKAGE}.api.default.{operation}")
        return module.sync_detailed(client=self.client, **kwargs)


@pytest.fixture(scope="module")
def api(generated: ModuleType, stack: Stack) -> Iterator[Api]:
    user = f"client-{uuid.uuid4().hex[:10]}"
    token = run_cli(stack.state_dir, "token", "--user", user).strip()
    client = generated.AuthenticatedClient(base_url=stack.api, token=token, raise_on_unexpected_status=True)
    with client:
        yield Api(client, user)


@pytest.fixture(scope="module")
def dataset_id(api: Api, stack: Stack) -> uuid.UUID:
    made = run_cli(
        stack.state_dir, "dataset", "--user", api.user, "--pairs", "5000", "--tokens", "1200000",
        "--name", "Generated client's",
    )  # fmt: skip
    return uuid.UUID(made.strip())


def _gpu(api: Api) -> Any:
    return api.model("GpuConfig")(type_=api.model("GpuConfigType")("A100-80GB"), count=2)


def _estimate(api: Api, dataset_id: uuid.UUID) -> Any:
    hyperparameters = api.model("EstimateHyperparameters")(
        learning_rate=0.00005, batch_size=4, epochs=3, rank=16
    )
    body = api.model("EstimateRequest")(
        dataset_id=dataset_id, gpu_config=_gpu(api), hyperparameters=hyperparameters
    )
    return api.call("estimate_job", body=body)


def _create(api: Api, dataset_id: uuid.UUID, estimated_cost: float, key: str) -> Any:
    hyperparameters = api.model("JobHyperparameters")(
        learning_rate=0.00005, batch_size=4, epochs=3, rank=16, alpha=32, dropout=0.1
    )
    body = api.model("CreateJobRequest")(
        dataset_id=dataset_id,
        preset_id=api.model("CreateJobRequestPresetId")("balanced"),
        gpu_config=_gpu(api),
        hyperparameters=hyperparameters,
        estimated_cost=estimated_cost,
    )
    return api.call("create_job", body=body, idempotency_key=key)


def test_the_catalog_and_the_dataset_come_back_as_typed_models(api: Api, dataset_id: uuid.UUID) -> None:
    catalog = api.call("get_catalog")
    dataset = api.call("get_dataset", dataset_id=str(dataset_id))

    assert catalog.status_code == 200
    assert "A100-80GB" in [gpu.id for gpu in catalog.parsed.data.gpu_types]
    assert [preset.id.value for preset in catalog.parsed.data.presets] == ["fast", "balanced", "quality"]
    assert dataset.status_code == 200
    summary = dataset.parsed.data
    assert type(summary).__name__ == "DatasetSummary"
    assert (summary.name, summary.total_training_pairs, summary.total_tokens) == (
        "Generated client's",
        5000,
        1200000,
    )
    assert summary.ready_for_training is True


def test_estimate_then_create_with_an_idempotency_key_makes_one_job(api: Api, dataset_id: uuid.UUID) -> None:
    estimate = _estimate(api, dataset_id)
    assert estimate.status_code == 200
    assert estimate.parsed.data.estimated_cost == 5.94
    key = f"generated-{uuid.uuid4()}"

    first = _create(api, dataset_id, estimate.parsed.data.estimated_cost, key)
    again = _create(api, dataset_id, estimate.parsed.data.estimated_cost, key)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert again.parsed.data.id == first.parsed.data.id
    job = api.call("get_job", job_id=str(first.parsed.data.id)).parsed.data
    assert job.status.value == "queued"
    assert job.estimated_total_cost == 5.94
    # gpu_config and hyperparameters are typed, as the request models are.
    assert type(job.gpu_config).__name__ == "GpuConfig"
    assert (job.gpu_config.type_.value, job.gpu_config.count) == ("A100-80GB", 2)
    assert type(job.hyperparameters).__name__ == "JobHyperparameters"
    assert (job.hyperparameters.rank, job.hyperparameters.dropout) == (16, 0.1)
    assert job.dataset.name == "Generated client's"


def test_listing_by_page_and_by_cursor_reach_the_last_page_with_the_same_jobs(
    api: Api, dataset_id: uuid.UUID
) -> None:
    created = [_create(api, dataset_id, 5.94, f"paging-{uuid.uuid4()}").parsed.data.id for _ in range(5)]
    everything = api.call("list_jobs", limit=100).parsed.data
    newest_first = [job.id for job in everything.jobs]
    assert set(created) <= set(newest_first)

    by_page: list[uuid.UUID] = []
    total_pages = api.call("list_jobs", page=1, limit=2).parsed.data.pagination.total_pages
    for page in range(1, total_pages + 1):
        by_page += [job.id for job in api.call("list_jobs", page=page, limit=2).parsed.data.jobs]

    by_cursor: list[uuid.UUID] = []
    answer = api.call("list_jobs", limit=2).parsed.data
    pages = 1
    while True:
        by_cursor += [job.id for job in answer.jobs]
        if answer.next_cursor is None:
            break
        answer = api.call("list_jobs", cursor=answer.next_cursor).parsed.data  # no page, no limit sent
        pages += 1

    assert by_page == newest_first
    assert by_cursor == newest_first
    assert pages == total_pages == (len(newest_first) + 1) // 2


def test_a_jobs_events_metrics_and_cancel_through_the_client(api: Api, dataset_id: uuid.UUID) -> None:
    job_id = str(_create(api, dataset_id, 5.94, f"cancel-{uuid.uuid4()}").parsed.data.id)

    cancelled = api.call("cancel_job", job_id=job_id)
    events = api.call("list_job_events", job_id=job_id)
    metrics = api.call("get_job_metrics", job_id=job_id, max_points=50)

    assert cancelled.status_code == 200
    assert cancelled.parsed.data.cancellation.value == "cancelled"  # not started: at once, charged nothing
    assert cancelled.parsed.data.job.current_cost == 0
    feed = events.parsed.data.events
    assert [event.type_.value for event in feed] == ["status_changed", "cost"]
    assert (feed[0].data["from"], feed[0].data["to"]) == ("queued", "cancelled")
    assert (feed[1].data["final"], feed[1].data["cost"]) == (True, 0)
    assert (metrics.parsed.data.points, metrics.parsed.data.reported_points) == ([], 0)
    saved = api.call("list_job_checkpoints", job_id=job_id)
    assert (saved.parsed.data.checkpoints, saved.parsed.data.adapter_available) == ([], False)
    nothing = api.call("download_job_artifact", job_id=job_id)
    assert (nothing.status_code, nothing.parsed.error) == (404, "Artifact not available")
    kind = api.model("DownloadJobArtifactArtifact")
    confused = api.call("download_job_artifact", job_id=job_id, artifact=kind("adapter"), step=1)
    assert (confused.status_code, confused.parsed.error) == (400, "Validation error")
    assert api.call("get_job", job_id=job_id).parsed.data.status.value == "cancelled"


def test_refusals_come_back_as_the_documented_error_model(api: Api, dataset_id: uuid.UUID) -> None:
    missing = api.call("get_job", job_id=str(uuid.uuid4()))
    both = api.call("list_jobs", page=1, cursor="anything")
    stale = _create(api, dataset_id, 1.00, f"stale-{uuid.uuid4()}")

    assert missing.status_code == 404
    assert (type(missing.parsed).__name__, missing.parsed.error) == (
        "ErrorResponse",
        "Training job not found",
    )
    assert both.status_code == 400
    assert both.parsed.error == "Validation error"
    assert stale.status_code == 409
    assert stale.parsed.error == "Estimate out of date"
    assert stale.parsed.data.estimated_cost == 5.94  # the fresh estimate, typed


def test_webhook_endpoints_through_the_client(api: Api) -> None:
    request = api.model("CreateWebhookRequest").from_dict(
        {"url": "https://hooks.example.com/client", "events": ["job.completed", "job.failed"]}
    )

    created = api.call("create_webhook", body=request)
    assert created.status_code == 201
    endpoint = created.parsed.data
    assert endpoint.secret.startswith("whsec_")
    assert [event.value for event in endpoint.events] == ["job.completed", "job.failed"]
    listed = api.call("list_webhooks").parsed.data.webhooks
    assert [hook.id for hook in listed] == [endpoint.id]
    rotated = api.call("rotate_webhook_secret", webhook_id=str(endpoint.id)).parsed.data
    assert rotated.secret != endpoint.secret
    assert rotated.previous_secret_expires_at is not None
    page = api.call("list_webhook_deliveries", webhook_id=str(endpoint.id), limit=10).parsed.data
    assert (page.deliveries, page.next_cursor) == ([], None)
    refused = api.call(
        "create_webhook", body=request.from_dict(request.to_dict() | {"url": "https://10.1.1.1/"})
    )
    assert (refused.status_code, refused.parsed.error, list(refused.parsed.details)) == (
        400,
        "Validation error",
        ["url"],
    )
    assert api.call("delete_webhook", webhook_id=str(endpoint.id)).status_code == 204
    gone = api.call("delete_webhook", webhook_id=str(endpoint.id))
    assert (gone.status_code, gone.parsed.error) == (404, "Webhook not found")


def test_the_account_limit_and_usage_through_the_client(api: Api, dataset_id: uuid.UUID) -> None:
    unset = api.call("get_account_limits")
    assert (unset.status_code, unset.parsed.data.monthly_spend_limit) == (200, None)

    body = api.model("UpdateLimitsRequest")(monthly_spend_limit=1000)
    set_ = api.call("put_account_limits", body=body)
    usage = api.call("get_account_usage", limit=5)

    assert (set_.status_code, set_.parsed.data.monthly_spend_limit) == (200, 1000)
    assert usage.status_code == 200
    month = usage.parsed.data
    assert type(month).__name__ == "MonthlyUsage"
    assert month.monthly_spend_limit == 1000
    assert month.remaining == 1000 - month.charged - month.committed
    assert _estimate(api, dataset_id).parsed.data.within_limit is True
    api.call("put_account_limits", body=api.model("UpdateLimitsRequest")(monthly_spend_limit=None))

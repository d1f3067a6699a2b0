"""Route matching as API Gateway HTTP APIs do it: the most specific route wins."""

from pathlib import Path

import pytest

from local.gateway import LoadedFunction, RouteTable, database_url_for, function_environment
from local.sam_template import FunctionSpec, HttpRoute, SqsSource, template_functions
from tests.paths import REPO_ROOT

REPO_ROOT = REPO_ROOT


class _Stub(LoadedFunction):
    """A route-table entry without importing any code."""

    def __init__(self, name: str, *routes: HttpRoute) -> None:
        self.spec = FunctionSpec(name, Path("."), "app", "lambda_handler", 3, 128, routes)


TABLE = RouteTable(
    [
        _Stub("literal", HttpRoute("GET", "/jobs/estimate")),
        _Stub("param", HttpRoute("GET", "/jobs/{job_id}")),
        _Stub("any-param", HttpRoute("ANY", "/jobs/{job_id}")),
        _Stub("greedy", HttpRoute("ANY", "/files/{proxy+}")),
        _Stub("default", HttpRoute("ANY", "$default")),
    ]
)


@pytest.mark.parametrize(
    ("method", "path", "function", "params"),
    [
        ("GET", "/jobs/estimate", "literal", {}),
        ("GET", "/jobs/abc", "param", {"job_id": "abc"}),
        ("GET", "/jobs/a%20b", "param", {"job_id": "a b"}),
        ("DELETE", "/jobs/abc", "any-param", {"job_id": "abc"}),
        ("GET", "/files/a/b/c.txt", "greedy", {"proxy": "a/b/c.txt"}),
        ("POST", "/anything/else", "default", {}),
    ],
)
def test_most_specific_route_wins(method: str, path: str, function: str, params: dict[str, str]) -> None:
    matched = TABLE.match(method, path)

    assert matched is not None
    assert (matched[0].function.spec.logical_id, matched[1]) == (function, params)


def test_no_default_route_means_no_match() -> None:
    table = RouteTable([_Stub("param", HttpRoute("GET", "/jobs/{job_id}"))])

    assert table.match("GET", "/jobs/a/b") is None
    assert table.match("POST", "/jobs/a") is None


def test_routes_come_from_the_template() -> None:
    specs = template_functions(REPO_ROOT / "template.yaml")
    routes = {(spec.logical_id, route.route_key) for spec in specs for route in spec.routes}

    assert routes == {
        ("EstimateFunction", "POST /jobs/estimate"),
        ("CreateJobFunction", "POST /jobs"),
        ("ListJobsFunction", "GET /jobs"),
        ("GetJobFunction", "GET /jobs/{job_id}"),
        ("GetDatasetFunction", "GET /datasets/{dataset_id}"),
        ("CreateDatasetFunction", "POST /datasets"),
        ("ListDatasetsFunction", "GET /datasets"),
        ("DeleteDatasetFunction", "DELETE /datasets/{dataset_id}"),
        ("CancelJobFunction", "POST /jobs/{job_id}/cancel"),
        ("JobEventsFunction", "GET /jobs/{job_id}/events"),
        ("JobMetricsFunction", "GET /jobs/{job_id}/metrics"),
        ("JobCheckpointsFunction", "GET /jobs/{job_id}/checkpoints"),
        ("JobDownloadFunction", "GET /jobs/{job_id}/download"),
        ("CatalogFunction", "GET /catalog"),
        ("CreateWebhookFunction", "POST /webhooks"),
        ("ListWebhooksFunction", "GET /webhooks"),
        ("DeleteWebhookFunction", "DELETE /webhooks/{webhook_id}"),
        ("RotateWebhookSecretFunction", "POST /webhooks/{webhook_id}/rotate-secret"),
        ("ListWebhookDeliveriesFunction", "GET /webhooks/{webhook_id}/deliveries"),
        ("GetAccountLimitsFunction", "GET /account/limits"),
        ("PutAccountLimitsFunction", "PUT /account/limits"),
        ("AccountUsageFunction", "GET /account/usage"),
    }
    assert {(spec.logical_id, spec.schedules) for spec in specs if spec.schedules} == {
        ("OutboxRelayFunction", ("rate(1 minute)",)),
        ("JobWatchdogFunction", ("rate(5 minutes)",)),
    }
    assert {(spec.logical_id, spec.queues) for spec in specs if spec.queues} == {
        ("JobDispatcherFunction", (SqsSource("JobsQueue", batch_size=10, report_batch_item_failures=True),)),
        (
            "JobReportsFunction",
            (SqsSource("JobReportsQueue", batch_size=10, report_batch_item_failures=True),),
        ),
        (
            "WebhookDeliveryFunction",
            (SqsSource("WebhookDeliveriesQueue", batch_size=5, report_batch_item_failures=True),),
        ),
        (
            "DatasetValidatorFunction",
            (SqsSource("DatasetUploadsQueue", batch_size=1, report_batch_item_failures=True),),
        ),
    }


def test_every_queue_a_function_consumes_is_created_locally() -> None:
    from local.sqs_server import LOGICAL_IDS

    specs = template_functions(REPO_ROOT / "template.yaml")
    consumed = {source.queue for spec in specs for source in spec.queues}
    assert consumed <= set(LOGICAL_IDS)


def test_each_function_gets_the_database_role_its_template_secret_names() -> None:
    urls = {
        "DatabaseSecretArn": "postgresql://pipeline_app@h/db",
        "WorkerDatabaseSecretArn": "postgresql://pipeline_worker@h/db",
    }
    roles = {
        spec.logical_id: database_url_for(spec, urls).get("DATABASE_URL")
        for spec in template_functions(REPO_ROOT / "template.yaml")
    }
    assert roles["OutboxRelayFunction"] == roles["JobDispatcherFunction"] == urls["WorkerDatabaseSecretArn"]
    assert roles["DatasetValidatorFunction"] == urls["WorkerDatabaseSecretArn"]
    for name in (
        "EstimateFunction",
        "CreateJobFunction",
        "ListJobsFunction",
        "GetJobFunction",
        "CancelJobFunction",
        "CreateDatasetFunction",
        "ListDatasetsFunction",
        "DeleteDatasetFunction",
    ):
        assert roles[name] == urls["DatabaseSecretArn"], name
    assert roles["CatalogFunction"] == urls["DatabaseSecretArn"]  # the global default; it never connects


def test_a_functions_init_environment_is_undone_after_its_import(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    monkeypatch.setenv("DATABASE_URL", "postgresql://before@h/db")
    monkeypatch.delenv("ONLY_DURING_INIT", raising=False)
    with function_environment({"DATABASE_URL": "postgresql://during@h/db", "ONLY_DURING_INIT": "1"}):
        assert (os.environ["DATABASE_URL"], os.environ["ONLY_DURING_INIT"]) == (
            "postgresql://during@h/db",
            "1",
        )
    assert os.environ["DATABASE_URL"] == "postgresql://before@h/db"
    assert "ONLY_DURING_INIT" not in os.environ

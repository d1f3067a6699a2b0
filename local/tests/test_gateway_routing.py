"""Route matching as API Gateway HTTP APIs do it: the most specific route wins."""

from pathlib import Path

import pytest

from local.gateway import LoadedFunction, RouteTable
from local.sam_template import FunctionSpec, HttpRoute, SqsSource, template_functions

REPO_ROOT = Path(__file__).resolve().parents[2]


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
        ("CatalogFunction", "GET /catalog"),
    }
    assert {(spec.logical_id, spec.schedules) for spec in specs if spec.schedules} == {
        ("OutboxRelayFunction", ("rate(1 minute)",))
    }
    assert {(spec.logical_id, spec.queues) for spec in specs if spec.queues} == {
        ("JobDispatcherFunction", (SqsSource("JobsQueue", batch_size=10, report_batch_item_failures=True),))
    }

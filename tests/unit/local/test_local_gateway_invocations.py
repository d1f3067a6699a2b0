"""The local gateway runs every function in one process, where they share the layer's one Logger and
one Metrics: each invocation still logs as its own function and request, and metrics that are off
locally never print, however many accumulate."""

import io
import json
from pathlib import Path
from typing import Any

import pytest

from local.gateway import LoadedFunction
from local.sam_template import FunctionSpec

HANDLER = """
from aws_lambda_powertools.metrics import MetricUnit
from pipeline.runtime.observability import logger, metrics

@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event, context):
    if event.get("correlation_id"):
        logger.set_correlation_id(event["correlation_id"])  # as an HTTP function does from its request
    metrics.add_metric(name="Calls", unit=MetricUnit.Count, value=1)
    logger.info("handled")
    return {}
"""


def _function(folder: Path, logical_id: str) -> LoadedFunction:
    (folder / "app.py").write_text(HANDLER)
    spec = FunctionSpec(logical_id, folder, "app", "lambda_handler", timeout_s=3, memory_mb=128, routes=())
    return LoadedFunction(spec)


def _lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_each_invocation_logs_as_its_own_function_and_request_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.runtime.observability import logger

    # The layer's logger writes to the stdout it found when first imported (perhaps a capture of an
    # earlier test's): read what it writes from its own handler.
    written = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", written)
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    api, consumer = _function(tmp_path, "ListJobsFunction"), _function(tmp_path, "JobDispatcherFunction")

    api.invoke({"correlation_id": "request-of-the-list"})
    consumer.invoke({})

    first, second = [line for line in _lines(written.getvalue()) if line.get("message") == "handled"]
    assert (first["function_name"], first["correlation_id"]) == ("ListJobsFunction", "request-of-the-list")
    assert second["function_name"] == "JobDispatcherFunction"
    assert "correlation_id" not in second


def test_metrics_that_are_off_never_print_even_past_powertools_flush_at_100(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    function = _function(tmp_path, "JobReportsFunction")

    for _ in range(150):
        function.invoke({})

    assert not any("_aws" in line for line in _lines(capfd.readouterr().out))

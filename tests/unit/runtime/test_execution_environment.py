"""The end of every function's init, in-process: hooks registered (or not, without the runtime's module),
priming answered without data access, deferred models built, init objects frozen."""

import gc
import sys
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.http.app import caller_id, create_app, success
from pipeline.runtime import execution_environment


class _Answer(BaseModel):
    caller: str


async def _job(request: Request) -> Response:
    return success(_Answer(caller=str(caller_id(request))))


APP = create_app([Route("/jobs/{job_id}", _job, methods=["GET"]), Route("/jobs", _job, methods=["POST"])])


def test_priming_answers_the_first_route_without_a_caller_so_nothing_touches_data() -> None:
    answer = execution_environment._answer_without_caller(APP)

    assert answer["statusCode"] == 401


def test_priming_a_post_route_sends_a_json_body() -> None:
    post_only = create_app([Route("/jobs", _job, methods=["POST"])])

    assert execution_environment._answer_without_caller(post_only)["statusCode"] == 401


def test_priming_builds_every_deferred_model_of_ours() -> None:
    class Deferred(BaseModel):
        model_config = ConfigDict(defer_build=True)
        n: int

    Deferred.__module__ = "pipeline.priming_probe"  # one of ours, as build_model_classes picks them
    deferred: type[BaseModel] = Deferred
    assert not deferred.__pydantic_complete__

    assert execution_environment.build_model_classes() >= 1
    assert deferred.__pydantic_complete__


def test_without_the_runtimes_hooks_module_nothing_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import fails, as outside Lambda

    assert execution_environment.register_snapshot_hooks([lambda: None]) is False


def test_a_snapstart_init_primes_and_an_on_demand_one_does_not(monkeypatch: pytest.MonkeyPatch) -> None:
    primed: list[Any] = []
    monkeypatch.setattr(execution_environment, "prime", primed.append)
    monkeypatch.setattr(execution_environment, "register_snapshot_hooks", lambda release: True)
    monkeypatch.setattr(gc, "freeze", lambda: primed.append("frozen"))

    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
    execution_environment.finish_init(APP)
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")
    execution_environment.finish_init(APP)

    assert primed == ["frozen", APP, "frozen"]


def test_priming_runs_both_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[str] = []

    def build() -> int:
        built.append("models")
        return 0

    monkeypatch.setattr(execution_environment, "build_model_classes", build)

    execution_environment.prime(APP)

    assert built == ["models"]

"""The end of a function's init: Lambda SnapStart's runtime hooks and priming, then the garbage collector.

With SnapStart (the HTTP functions; template parameter SnapStart), Lambda runs a function's init once,
when a version is published, snapshots the execution environment, and resumes every new environment of
that version from the snapshot. So:
- before the snapshot, nothing unique or fresh per environment is held: each function hands in what to
  release (the database connection and its cached secret; an AWS client's pooled connections);
- after a restore, Python's random generator is reseeded (a snapshot would give every environment the
  same sequence); connections and secrets come back lazily, on first use;
- during a SnapStart init the function is primed, so the first request after a restore neither builds
  validators nor runs anything for the first time: every pydantic model class loaded is built, and one
  request that touches no database (no caller: 401) runs through Mangum and Starlette.
The hooks come from snapshot_restore_py, part of the python3.12 managed runtime; where it is missing,
nothing is registered. An on-demand init (no SnapStart) registers the hooks, which then never run, and
skips the priming: it would only lengthen that cold start.
"""

import gc
import os
import random
from collections.abc import Callable, Iterable
from typing import Any

from mangum import Mangum
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.routing import Route

SNAPSTART_INIT = "snap-start"  # AWS_LAMBDA_INITIALIZATION_TYPE during a SnapStart init
_NIL_UUID = "00000000-0000-0000-0000-000000000000"


def finish_init(app: Starlette | None = None, *, release: Iterable[Callable[[], None]] = ()) -> None:
    """Called last in every function's module, once its clients and app exist."""
    register_snapshot_hooks(release)
    if app is not None and os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == SNAPSTART_INIT:
        prime(app)
    freeze_init_objects()


def register_snapshot_hooks(release: Iterable[Callable[[], None]]) -> bool:
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:
        return False
    for hook in release:
        register_before_snapshot(hook)
    register_after_restore(reseed_random)
    return True


def reseed_random() -> None:
    random.seed()  # from os.urandom: each restored environment gets its own sequence


def prime(app: Starlette) -> None:
    build_model_classes()
    _answer_without_caller(app)


def build_model_classes() -> int:
    """Build every model class of ours defined so far whose build was deferred (defer_build)."""
    built = 0
    pending: list[type[BaseModel]] = list(BaseModel.__subclasses__())
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if model.__module__.startswith("pipeline.") and not model.__pydantic_complete__:
            model.model_rebuild(force=True)
            built += 1
    return built


class _PrimingContext:
    function_name = "priming"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:priming"
    aws_request_id = "priming"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def _answer_without_caller(app: Starlette) -> dict[str, Any]:
    """One request to the app's first route with no authorizer claims: answered 401 before any data access."""
    route = next(route for route in app.routes if isinstance(route, Route))
    path = route.path
    for name in route.param_convertors:
        path = path.replace(f"{{{name}}}", _NIL_UUID)
    method = sorted((route.methods or {"GET"}) - {"HEAD"})[0]
    event = {
        "version": "2.0",
        "routeKey": f"{method} {route.path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"},
            "requestId": "priming",
            "stage": "$default",
        },
        "body": "{}" if method == "POST" else None,
        "isBase64Encoded": False,
    }
    answer: dict[str, Any] = Mangum(app, lifespan="off")(event, _PrimingContext())  # type: ignore[arg-type]
    return answer


def freeze_init_objects() -> None:
    # What exists now (imported modules, clients, the app) lives as long as the execution environment.
    # Frozen, the cyclic collector stops rescanning it on every full collection: in the first request
    # (which builds whatever was deferred) and in every later one.
    gc.freeze()

"""Invoke a function's lambda_handler the way API Gateway does, from its events/ file."""

import copy
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

EVENTS_DIR = Path(__file__).resolve().parent.parent / "events"
UNSET: Any = object()


@dataclass
class FakeLambdaContext:
    function_name: str = "test-function"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: Any
    raw_body: str


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS_DIR / f"{name}.json").read_text())
    return event


def build_event(
    name: str,
    *,
    sub: Any = UNSET,
    body: Any = UNSET,
    raw_body: str | None = None,
    query: dict[str, str] | None = None,
    path: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A copy of events/<name>.json with the caller, body, query or path replaced."""
    event = copy.deepcopy(load_event(name))
    claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    if sub is None:
        del event["requestContext"]["authorizer"]
    elif sub is not UNSET:
        claims["sub"] = str(sub)
    if body is not UNSET:
        raw_body = json.dumps(body)
    if raw_body is not None:
        event["body"] = raw_body
        event["headers"]["content-length"] = str(len(raw_body.encode()))
    if query is not None:
        event["rawQueryString"] = urlencode(query)
        event["queryStringParameters"] = query or None
        if not query:
            del event["queryStringParameters"]
    if path is not None:
        event["rawPath"] = path
        event["requestContext"]["http"]["path"] = path
        if "pathParameters" in event:  # /jobs/{job_id}/..., /datasets/{dataset_id}: the second segment
            (name,) = event["pathParameters"]
            segments = path.strip("/").split("/")
            event["pathParameters"] = {name: segments[1] if len(segments) > 1 else ""}
    if headers:
        event["headers"].update(headers)
    event["requestContext"]["requestId"] = f"test-{uuid.uuid4().hex[:16]}"
    return event


def invoke(app_module: ModuleType, event: dict[str, Any]) -> ApiResponse:
    result = app_module.lambda_handler(event, FakeLambdaContext())
    raw = result.get("body") or ""
    try:
        parsed = json.loads(raw) if raw else None
    except json.JSONDecodeError:
        parsed = None
    return ApiResponse(result["statusCode"], result.get("headers", {}), parsed, raw)

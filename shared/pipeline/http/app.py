"""What every function's Starlette app shares: body parsing, the response envelope, error handlers.

Responses are `{"success": true, "data": ...}` or the error format of pipeline.http.errors. Anything
unexpected is logged with the request id and answered with 500 and that id, nothing more.
"""

import json
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any, Final, NoReturn, TypeVar, cast
from uuid import UUID

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from mangum import Mangum
from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from pipeline.errors import DomainError
from pipeline.http import auth
from pipeline.http.errors import ApiError, for_domain_error, validation_error
from pipeline.runtime.observability import logger, metrics, tracer

MAX_BODY_BYTES: Final = 64 * 1024
MAX_JSON_DEPTH: Final = 16
# Every legitimate string here is short (UUIDs, enum values, the page's preset descriptions).
MAX_STRING_LENGTH: Final = 1024
# No figure this API takes needs more: a longer number is refused before it is converted (Python refuses
# integers of more than 4300 digits with a ValueError, and a long float literal only loses precision).
MAX_NUMBER_LENGTH: Final = 40

ModelT = TypeVar("ModelT", bound=BaseModel)


def json_response(body: Any, status_code: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    content = json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    return Response(content, status_code=status_code, headers=headers, media_type="application/json")


def success(data: BaseModel, status_code: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return json_response({"success": True, "data": data.model_dump(mode="json")}, status_code, headers)


def caller_id(request: Request) -> UUID:
    return auth.caller_id(request.scope.get("aws.event") or {})


def request_id(request: Request) -> str:
    return _request_id(request.scope.get("aws.event") or {}, request.scope.get("aws.context"))


def _request_id(event: Mapping[str, Any], context: object) -> str:
    """API Gateway's request id (what a user sees in X-Request-Id), else Lambda's."""
    rid = (event.get("requestContext") or {}).get("requestId") or getattr(context, "aws_request_id", None)
    return str(rid or "unknown")


class _NonStandardJson(ValueError):
    pass


_IDEMPOTENCY_KEY = re.compile(r"[\x20-\x7e]{1,255}")


def idempotency_key(request: Request) -> str | None:
    """The Idempotency-Key header: absent, or 1-255 printable ASCII characters (else 400)."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if not _IDEMPOTENCY_KEY.fullmatch(key):
        raise ApiError(
            400,
            "Validation error",
            {"Idempotency-Key": ["Must be 1 to 255 printable ASCII characters"]},
        )
    return key


def _reject_non_standard_json(constant: str) -> NoReturn:
    raise _NonStandardJson(f"{constant} is not a JSON number; send a finite number")


def _bounded_int(literal: str) -> int:
    if len(literal) > MAX_NUMBER_LENGTH:
        raise _NonStandardJson(f"JSON numbers must be at most {MAX_NUMBER_LENGTH} characters long")
    return int(literal)


def _bounded_float(literal: str) -> float:
    if len(literal) > MAX_NUMBER_LENGTH:
        raise _NonStandardJson(f"JSON numbers must be at most {MAX_NUMBER_LENGTH} characters long")
    return float(literal)


async def read_json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object: at most 64 KiB, standard JSON only (no NaN/Infinity)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and (len(declared) > 12 or int(declared) > MAX_BODY_BYTES):
        raise _too_large()
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise _too_large()
    if not raw.strip():
        raise ApiError(400, "Invalid JSON body", "The request body is empty; send a JSON object")
    try:
        payload = json.loads(
            raw, parse_constant=_reject_non_standard_json, parse_int=_bounded_int, parse_float=_bounded_float
        )
    except json.JSONDecodeError as exc:
        detail = f"{exc.msg} at line {exc.lineno} column {exc.colno}"
        raise ApiError(400, "Invalid JSON body", detail) from None
    except _NonStandardJson as exc:
        raise ApiError(400, "Invalid JSON body", str(exc)) from None
    except (UnicodeDecodeError, RecursionError):
        raise ApiError(
            400, "Invalid JSON body", "The body is not UTF-8 JSON or is nested too deeply"
        ) from None
    if not isinstance(payload, dict):
        raise ApiError(400, "Request body must be a JSON object")
    _check_shape(payload)
    return payload


def _check_shape(value: Any) -> None:
    """Bound nesting depth and string lengths of parsed JSON, iteratively (no recursion limit to hit)."""
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if level > MAX_JSON_DEPTH:
            raise ApiError(400, "Invalid JSON body", f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(item, dict):
            if any(len(key) > MAX_STRING_LENGTH for key in item):
                raise _string_too_long()
            stack.extend((child, level + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, level + 1) for child in item)
        elif isinstance(item, str) and len(item) > MAX_STRING_LENGTH:
            raise _string_too_long()


def _string_too_long() -> ApiError:
    return ApiError(400, "Invalid JSON body", f"JSON strings must be at most {MAX_STRING_LENGTH} characters")


def parse(model: type[ModelT], payload: Any) -> ModelT:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise validation_error(exc) from None


def _too_large() -> ApiError:
    return ApiError(413, "Payload too large", f"The request body must be at most {MAX_BODY_BYTES} bytes")


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return await _api_error(request, for_domain_error(exc))


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    if exc.status_code >= 500:
        rid = request_id(request)
        logger.warning("request failed", status=exc.status_code, error=exc.error, request_id=rid)
    return json_response(exc.body(), exc.status_code, exc.headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    # Routing errors inside a function (unknown path, wrong method) keep the API's error shape.
    assert isinstance(exc, HTTPException)
    messages = {404: "Not found", 405: "Method not allowed"}
    return json_response({"error": messages.get(exc.status_code, exc.detail)}, exc.status_code, exc.headers)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    rid = request_id(request)
    logger.exception("unhandled error", request_id=rid, path=request.url.path)
    # Starlette re-raises it after this answer, and Mangum would log it a second time.
    exc.__dict__[_LOGGED] = True
    return json_response({"error": "Internal error", "request_id": rid}, 500)


_LOGGED = "_pipeline_logged"


class _DropLoggedErrors(logging.Filter):
    """Mangum logs every exception the app raises; one record per error is ours, with the request id."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not (error is not None and error.__dict__.get(_LOGGED, False))


logging.getLogger("mangum.http").addFilter(_DropLoggedErrors())

# On every answer: nothing of a user's jobs belongs in a cache, no browser may sniff a JSON body into
# something else, and the request id lets a user quote the request they mean.
SECURITY_HEADERS: Final = {"cache-control": "no-store", "x-content-type-options": "nosniff"}
REQUEST_ID_HEADER: Final = "x-request-id"


def create_app(routes: list[BaseRoute]) -> Starlette:
    return Starlette(
        routes=routes,
        exception_handlers={
            DomainError: _domain_error,
            ApiError: _api_error,
            HTTPException: _http_error,
            Exception: _unexpected_error,
        },
    )


LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def lambda_handler_for(app: Starlette) -> LambdaHandler:
    """The Lambda entry point for one function's app: Mangum (no lifespan) under Powertools."""
    asgi_handler = Mangum(app, lifespan="off")

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
    # Not the response: it holds users' jobs, which have no place in traces (and serialising it into
    # every trace segment cost each request time).
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        # Mangum declares its own LambdaContext protocol; the runtime's object satisfies both.
        response: dict[str, Any] = asgi_handler(event, cast(Any, context))
        headers = response.setdefault("headers", {})
        headers.update(SECURITY_HEADERS)
        headers[REQUEST_ID_HEADER] = _request_id(event, context)
        return response

    return cast(LambdaHandler, lambda_handler)  # the decorator with arguments is typed Any

"""A local API Gateway (HTTP API, payload 2.0) that runs the functions' lambda_handlers in-process.

For each request it finds the route in template.yaml, checks the bearer token as the JWT authorizer
does (401 {"message": "Unauthorized"} before any function runs), builds the event Lambda would get,
calls that function's `lambda_handler` and turns its result into the HTTP response.

Each function gets one worker thread, like one Lambda execution environment: requests to the same
function run one at a time (its module-level connection is never shared), different functions run
in parallel. Each worker has its own asyncio loop, which Mangum runs the Starlette app on.
"""

import asyncio
import base64
import importlib.util
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any, Final
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from local import auth_tokens
from local.queue_consumers import QueueConsumer
from local.sam_template import FunctionSpec, HttpRoute, template_functions

log = logging.getLogger("pipeline.local")

UNAUTHORIZED = {"message": "Unauthorized"}
NOT_FOUND = {"message": "Not Found"}
INTERNAL_ERROR = {"message": "Internal Server Error"}
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/x-www-form-urlencoded", "+json")


_ONE_INVOCATION_AT_A_TIME: Final = threading.Lock()


@dataclass
class LocalLambdaContext:
    function_name: str
    memory_limit_in_mb: int
    timeout_s: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_s
        self.log_group_name = f"/aws/lambda/{self.function_name}"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _new_event_loop() -> None:
    asyncio.set_event_loop(asyncio.new_event_loop())


@contextmanager
def function_environment(overrides: Mapping[str, str]) -> Iterator[None]:
    """os.environ with `overrides` while a function's module initialises (its settings are read at
    import, as in Lambda), then as before: every function in this process shares one environment."""
    previous = {name: os.environ.get(name) for name in overrides}
    os.environ.update(overrides)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class LoadedFunction:
    """One function's module, imported from its CodeUri as Lambda does, and its single worker.

    `environment`: variables set for this function's init only (e.g. DATABASE_URL for the role its
    template parameter names)."""

    def __init__(self, spec: FunctionSpec, environment: Mapping[str, str] | None = None) -> None:
        self.spec = spec
        path = spec.code_dir / f"{spec.handler_module.replace('.', '/')}.py"
        module_name = f"_local_lambda_{spec.logical_id}"
        module_spec = importlib.util.spec_from_file_location(module_name, path)
        if module_spec is None or module_spec.loader is None:
            raise ImportError(f"cannot load {path} for {spec.logical_id}")
        module: ModuleType = importlib.util.module_from_spec(module_spec)
        with function_environment(environment or {}):
            module_spec.loader.exec_module(module)
        self.handler: Callable[[dict[str, Any], Any], Any] = getattr(module, spec.handler_function)
        self.executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix=spec.logical_id, initializer=_new_event_loop
        )

    def invoke(self, event: dict[str, Any]) -> Any:
        from pipeline.runtime.observability import logger, metrics

        context = LocalLambdaContext(self.spec.logical_id, self.spec.memory_mb, self.spec.timeout_s)
        # Here every function shares the layer's one Logger and one Metrics (in Lambda each function has
        # a process of its own): one invocation at a time, starting from a clean logger, so each log
        # line names its own function and request, never another's correlation id.
        with _ONE_INVOCATION_AT_A_TIME:
            logger.clear_state()
            try:
                return self.handler(event, context)
            finally:
                # Disabled metrics are never flushed, so they would pile up until Powertools prints
                # them anyway at 100 values.
                metrics.clear_metrics()


@dataclass(frozen=True)
class _CompiledRoute:
    route: HttpRoute
    function: LoadedFunction
    pattern: re.Pattern[str]
    # API Gateway prefers the most specific route: literal paths, then fewer greedy/plain variables.
    precedence: tuple[int, int, int, int]


def _compile(route: HttpRoute, function: LoadedFunction) -> _CompiledRoute:
    if route.path == "$default":
        return _CompiledRoute(route, function, re.compile(r".*"), (1, 0, 0, 0))
    segments = route.path.strip("/").split("/") if route.path != "/" else []
    parts, literals, greedy = [], 0, 0
    for segment in segments:
        variable = re.fullmatch(r"\{([A-Za-z0-9_]+)(\+?)\}", segment)
        if variable and variable.group(2):
            parts.append(f"(?P<{variable.group(1)}>.+)")
            greedy += 1
        elif variable:
            parts.append(f"(?P<{variable.group(1)}>[^/]+)")
        else:
            parts.append(re.escape(segment))
            literals += 1
    pattern = re.compile("/" + "/".join(parts))
    return _CompiledRoute(route, function, pattern, (0, greedy, -literals, int(route.method == "ANY")))


class RouteTable:
    def __init__(self, functions: list[LoadedFunction]) -> None:
        self._routes = sorted(
            (_compile(route, function) for function in functions for route in function.spec.routes),
            key=lambda compiled: compiled.precedence,
        )

    def match(self, method: str, path: str) -> tuple[_CompiledRoute, dict[str, str]] | None:
        for compiled in self._routes:
            if compiled.route.method not in (method, "ANY"):
                continue
            found = compiled.pattern.fullmatch(path)
            if found:
                return compiled, {name: unquote(value) for name, value in found.groupdict().items()}
        return None


def _claims_as_strings(claims: dict[str, Any]) -> dict[str, str]:
    # API Gateway hands claims to the function as strings; arrays as "[a b]".
    return {
        name: "[" + " ".join(map(str, value)) + "]" if isinstance(value, list) else str(value)
        for name, value in claims.items()
    }


def build_event(
    request: Request,
    body: bytes,
    route: HttpRoute,
    path_params: dict[str, str],
    claims: dict[str, Any] | None,
) -> dict[str, Any]:
    """The API Gateway HTTP API payload-2.0 event for this request."""
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    cookies = [c.strip() for c in headers.pop("cookie", "").split(";") if c.strip()]
    query: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        query[name] = f"{query[name]},{value}" if name in query else value
    now = datetime.now(UTC)
    request_context: dict[str, Any] = {
        "accountId": "000000000000",
        "apiId": "local",
        "domainName": request.url.hostname or "127.0.0.1",
        "domainPrefix": "local",
        "http": {
            "method": request.method,
            "path": request.url.path,
            "protocol": f"HTTP/{request.scope.get('http_version', '1.1')}",
            "sourceIp": request.client.host if request.client else "127.0.0.1",
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": base64.b64encode(uuid.uuid4().bytes[:10]).decode(),
        "routeKey": route.route_key,
        "stage": "$default",
        "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if claims is not None:
        scope = claims.get("scope")
        request_context["authorizer"] = {
            "jwt": {"claims": _claims_as_strings(claims), "scopes": str(scope).split() if scope else None}
        }
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": request.url.path,
        "rawQueryString": request.url.query,
        "headers": headers,
        "requestContext": request_context,
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_params:
        event["pathParameters"] = path_params
    if body:
        content_type = headers.get("content-type", "")
        try:
            if not any(kind in content_type for kind in _TEXT_TYPES):
                raise UnicodeDecodeError("utf-8", body, 0, 0, "binary content type")
            event["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            event["body"] = base64.b64encode(body).decode()
            event["isBase64Encoded"] = True
    return event


def to_response(result: Any) -> Response:
    """A Lambda proxy result (payload 2.0) as an HTTP response."""
    if not isinstance(result, dict) or "statusCode" not in result:
        # API Gateway's 2.0 inference: anything else is a 200 JSON body.
        return JSONResponse(result)
    raw = result.get("body") or ""
    content = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
    response = Response(content, status_code=int(result["statusCode"]))
    for name, value in (result.get("headers") or {}).items():
        response.headers[name] = str(value)
    for name, values in (result.get("multiValueHeaders") or {}).items():
        for value in values:
            response.headers.append(name, str(value))
    for cookie in result.get("cookies") or []:
        response.headers.append("set-cookie", cookie)
    return response


def scheduled_event(function: FunctionSpec) -> dict[str, Any]:
    """What EventBridge sends a function on a schedule."""
    now = datetime.now(UTC)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [f"arn:aws:events:us-east-1:000000000000:rule/local-{function.logical_id}"],
        "detail": {},
    }


def database_url_for(spec: FunctionSpec, database_urls: Mapping[str, str]) -> dict[str, str]:
    """DATABASE_URL for the role of the secret the function's DATABASE_SECRET_ARN names, when the
    local stack has a stand-in for that secret parameter."""
    parameter = spec.parameter_variables.get("DATABASE_SECRET_ARN")
    url = database_urls.get(parameter) if parameter else None
    return {"DATABASE_URL": url} if url else {}


class Gateway:
    """`database_urls`: template secret parameter (DatabaseSecretArn, ...) -> the local URL of its role."""

    def __init__(
        self, template_path: Path, jwks: dict[str, Any], database_urls: Mapping[str, str] | None = None
    ) -> None:
        self.jwks = jwks
        self.functions = [
            LoadedFunction(spec, database_url_for(spec, database_urls or {}))
            for spec in template_functions(template_path)
        ]
        self.routes = RouteTable([f for f in self.functions if f.spec.routes])
        self.scheduled = [f for f in self.functions if f.spec.schedules]

    async def run_schedules(self, interval_s: float) -> None:
        """Invoke every scheduled function every `interval_s` (locally faster than its real schedule)."""
        loop = asyncio.get_running_loop()
        while True:
            for function in self.scheduled:
                try:
                    result = await loop.run_in_executor(
                        function.executor, function.invoke, scheduled_event(function.spec)
                    )
                    if isinstance(result, dict) and any(result.values()):
                        log.info("%s: %s", function.spec.logical_id, result)
                except Exception:
                    log.exception("%s raised on its schedule", function.spec.logical_id)
            await asyncio.sleep(interval_s)

    def _authorize(self, request: Request) -> dict[str, Any]:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise auth_tokens.Unauthorized("no bearer token")
        return auth_tokens.verify(token.strip(), self.jwks)

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        response = await self._dispatch(request)
        elapsed_ms = (time.perf_counter() - started) * 1000
        log.info("%s %s -> %d (%.1f ms)", request.method, request.url.path, response.status_code, elapsed_ms)
        return response

    async def _dispatch(self, request: Request) -> Response:
        matched = self.routes.match(request.method, request.url.path)
        if matched is None:
            return JSONResponse(NOT_FOUND, status_code=404)
        compiled, path_params = matched
        try:
            claims = self._authorize(request)
        except auth_tokens.Unauthorized as exc:
            log.info("unauthorized %s %s: %s", request.method, request.url.path, exc)
            return JSONResponse(UNAUTHORIZED, status_code=401)
        event = build_event(request, await request.body(), compiled.route, path_params, claims)
        function = compiled.function
        try:
            result = await asyncio.get_running_loop().run_in_executor(
                function.executor, function.invoke, event
            )
        except Exception:
            log.exception("%s raised; API Gateway answers 500", function.spec.logical_id)
            return JSONResponse(INTERNAL_ERROR, status_code=500)
        return to_response(result)

    def close(self) -> None:
        for function in self.functions:
            function.executor.shutdown(wait=True, cancel_futures=True)


class _AnyPathConvertor(Convertor[str]):
    """Starlette's `path` convertor stops at a newline; API Gateway routes every path, so must we."""

    regex = r"[\s\S]*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("anypath", _AnyPathConvertor())


def unrouted_pages(
    gateway: Gateway, page_not_found: Callable[[Request], Response] | None
) -> Callable[[Request], Awaitable[Response]]:
    """The gateway, except that a browser opening an address that is neither a page nor a route gets
    the site's not-found page, as CloudFront serves web/404.html deployed (the page and the API share
    an origin here only). API clients keep API Gateway's own 404 JSON."""

    async def handle(request: Request) -> Response:
        navigation = request.method in ("GET", "HEAD") and "text/html" in request.headers.get("accept", "")
        if page_not_found and navigation and gateway.routes.match(request.method, request.url.path) is None:
            log.info("%s %s -> 404 (the not-found page)", request.method, request.url.path)
            return page_not_found(request)
        return await gateway.handle(request)

    return handle


def create_app(
    gateway: Gateway,
    on_startup: Callable[[], None] | None = None,
    schedule_interval_s: float = 5,
    web_routes: list[BaseRoute] | None = None,
    queue_consumers: list[QueueConsumer] | None = None,
    page_not_found: Callable[[Request], Response] | None = None,
) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(gateway.run_schedules(schedule_interval_s))]
        tasks += [asyncio.create_task(consumer.run()) for consumer in queue_consumers or []]
        if on_startup:
            on_startup()
        yield
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        gateway.close()

    async def jwks(request: Request) -> Response:
        return JSONResponse(gateway.jwks)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    return Starlette(
        routes=[
            Route("/.well-known/jwks.json", jwks, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            *(web_routes or []),  # the page: its paths are not API routes (template.yaml has none)
            Route("/{path:anypath}", unrouted_pages(gateway, page_not_found), methods=methods),
        ],
        lifespan=lifespan,
    )

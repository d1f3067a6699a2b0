"""The configuration page's static files, served by the local stack beside the API (same origin).

Deployed, CloudFront serves the same files from S3; its viewer-request function (template.yaml,
WebPathRewrite) maps page paths to files exactly as PAGE_FILES below does, and a test runs that
function against this table. Also here, for local use only: `/config.json` (deployed, `make
publish-web` writes it from the stack's outputs), a token endpoint standing in for the Cognito hosted
UI. `/datasets` itself is the API's (GET /datasets, POST /datasets), never a page: the datasets page
is DATASETS_PAGE.
The dev endpoints answer only requests addressed to 127.0.0.1 or localhost (no DNS rebinding).
"""

import re
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from local.auth_tokens import DEFAULT_TTL_S, SigningKey
from local.state import REPO_ROOT

WEB_ROOT: Final = REPO_ROOT / "web"
HOME: Final = "/training/jobs"
# The datasets page (template.yaml's DatasetsPageUrl default).
DATASETS_PAGE: Final = "/training/datasets"
# Page path (a regular expression over the whole path) -> the file under web/ that renders it.
PAGE_FILES: Final[dict[str, str]] = {
    r"/training/configure": "training/configure.html",
    r"/training/datasets": "training/datasets.html",
    r"/training/jobs": "training/jobs.html",
    r"/training/jobs/[^/]+": "training/job.html",
    r"/training/signin": "training/signin.html",
}
_USER_NAME: Final = re.compile(r"[A-Za-z0-9@._+-]{1,128}")
# The page must fetch fresh HTML and settings; locally the assets change as you edit them, too.
_NO_CACHE: Final = {"Cache-Control": "no-cache"}


def page_file(path: str) -> str | None:
    """The file under web/ for a page path, or None when the path is not a page."""
    for pattern, file in PAGE_FILES.items():
        if re.fullmatch(pattern, path):
            return file
    return None


def not_found_page(request: Request) -> Response:
    return FileResponse(WEB_ROOT / "404.html", status_code=404, headers=_NO_CACHE)


def local_config() -> dict[str, Any]:
    return {
        "apiUrl": "",  # same origin as the page
        "datasetsUrl": DATASETS_PAGE,
        "auth": {"kind": "local", "tokenUrl": "/dev/token"},
    }


def web_routes(signing_key: SigningKey, owner_database_url: str) -> list[BaseRoute]:
    async def page(request: Request) -> Response:
        file = page_file(request.url.path)
        assert file is not None  # the routes below are built from PAGE_FILES
        return FileResponse(WEB_ROOT / file, headers=_NO_CACHE)

    async def home(request: Request) -> Response:
        return RedirectResponse(HOME, status_code=302)

    async def config(request: Request) -> Response:
        return JSONResponse(local_config(), headers=_NO_CACHE)

    async def dev_token(request: Request) -> Response:
        """Dev only: a token for whichever user the page asks for. Never part of a deployment."""
        if not _loopback_host(request):
            return _wrong_host()
        try:
            body = await request.json()
        except ValueError:
            body = None
        user = body.get("user") if isinstance(body, dict) else None
        if not isinstance(user, str) or not _USER_NAME.fullmatch(user):
            return JSONResponse(
                {"error": "user: 1 to 128 letters, digits or @._+- characters"}, status_code=400
            )
        token = signing_key.mint(user, ttl_s=DEFAULT_TTL_S)
        return JSONResponse(
            {"access_token": token, "token_type": "Bearer", "expires_in": DEFAULT_TTL_S},
            headers={"Cache-Control": "no-store"},
        )

    page_routes: list[BaseRoute] = [
        Route(_starlette_path(pattern), page, methods=["GET"]) for pattern in PAGE_FILES
    ]
    return [
        Route("/", home, methods=["GET"]),
        *page_routes,
        Route("/config.json", config, methods=["GET"]),
        Route("/dev/token", dev_token, methods=["POST"]),
        Mount("/assets", StaticFiles(directory=WEB_ROOT / "assets"), name="assets"),
    ]


_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})


def _loopback_host(request: Request) -> bool:
    """The dev endpoints answer only requests addressed to this machine by name or loopback address: a
    page on another site that rebinds its own name to 127.0.0.1 sends its own name as Host."""
    host = request.headers.get("host", "")
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return name.lower() in _LOOPBACK_HOSTS


def _wrong_host() -> Response:
    return JSONResponse(
        {"error": "Forbidden", "details": "Local dev endpoints answer only Host 127.0.0.1 or localhost"},
        status_code=403,
    )


def _starlette_path(pattern: str) -> str:
    return pattern.replace("[^/]+", "{job_id}")  # "/training/jobs/[^/]+" -> "/training/jobs/{job_id}"

"""The configuration page's static files, served by the local stack beside the API (same origin).

Deployed, CloudFront serves the same files from S3; its viewer-request function (template.yaml,
WebPathRewrite) maps page paths to files exactly as PAGE_FILES below does, and a test runs that
function against this table. Also here, for local use only: `/config.json` (deployed, `make
publish-web` writes it from the stack's outputs), a token endpoint standing in for the Cognito hosted
UI, and a `/datasets` list standing in for the dataset section's page.
"""

import html
import re
from typing import Any, Final

import psycopg
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from local.auth_tokens import DEFAULT_TTL_S, SigningKey
from local.state import REPO_ROOT

WEB_ROOT: Final = REPO_ROOT / "web"
HOME: Final = "/training/jobs"
# Page path (a regular expression over the whole path) -> the file under web/ that renders it.
PAGE_FILES: Final[dict[str, str]] = {
    r"/training/configure": "training/configure.html",
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


def local_config() -> dict[str, Any]:
    return {
        "apiUrl": "",  # same origin as the page
        "datasetsUrl": "/datasets",
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

    async def datasets(request: Request) -> Response:
        return HTMLResponse(_datasets_page(owner_database_url), headers=_NO_CACHE)

    page_routes: list[BaseRoute] = [
        Route(_starlette_path(pattern), page, methods=["GET"]) for pattern in PAGE_FILES
    ]
    return [
        Route("/", home, methods=["GET"]),
        *page_routes,
        Route("/config.json", config, methods=["GET"]),
        Route("/dev/token", dev_token, methods=["POST"]),
        Route("/datasets", datasets, methods=["GET"]),
        Mount("/assets", StaticFiles(directory=WEB_ROOT / "assets"), name="assets"),
    ]


def _starlette_path(pattern: str) -> str:
    return pattern.replace("[^/]+", "{job_id}")  # "/training/jobs/[^/]+" -> "/training/jobs/{job_id}"


_DATASETS_QUERY = """
select d.id, d.name, d.status, d.training_ready, d.total_training_pairs, d.user_id
from lora_datasets d
order by d.created_at desc
limit 200
"""


def _datasets_page(owner_database_url: str) -> str:
    with psycopg.connect(owner_database_url, autocommit=True) as conn:
        rows = conn.execute(_DATASETS_QUERY).fetchall()
    items = []
    for dataset_id, name, status, ready, pairs, user_id in rows:
        label = f"{html.escape(name)} — {html.escape(status)}, {pairs or 0} pairs, user {user_id}"
        if ready and status == "ready":
            href = f"/training/configure?datasetId={dataset_id}"
            items.append(f'<li><a href="{html.escape(href)}">{label}</a></li>')
        else:
            items.append(f"<li>{label} (not ready for training)</li>")
    listing = "\n".join(items) or "<li>No datasets yet: <code>make dataset USER=...</code> adds one.</li>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Datasets (local) · PIPELINE</title><link rel="stylesheet" href="/assets/app.css"></head>
<body><main><h1>Datasets (local stand-in)</h1>
<p class="hint">The dataset section owns this page. Locally, every dataset in the embedded database is
listed; pick one that belongs to the user you signed in as.</p>
<ul>{listing}</ul><p><a href="{HOME}">Training jobs</a></p></main></body></html>"""

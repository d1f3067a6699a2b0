"""A stand-in for the Cognito hosted UI's OAuth 2.0 endpoints, strict where the page could go wrong:
the authorization-code grant with PKCE (S256), one-time codes, exact redirect URIs, the state echoed.
Its tokens are signed with the local stack's key, so the local gateway accepts them."""

import base64
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from local.auth_tokens import SigningKey
from local.stack_process import free_port


@dataclass
class _Grant:
    challenge: str
    redirect_uri: str


@dataclass
class FakeHostedUi:
    signing_key: SigningKey
    client_id: str
    page_origin: str
    user: str
    port: int = field(default_factory=free_port)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    _grants: dict[str, _Grant] = field(default_factory=dict)
    _server: uvicorn.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _app(self) -> Starlette:
        async def authorize(request: Request) -> Response:
            q = request.query_params
            problems = [
                name
                for name, ok in (
                    ("response_type", q.get("response_type") == "code"),
                    ("client_id", q.get("client_id") == self.client_id),
                    ("code_challenge_method", q.get("code_challenge_method") == "S256"),
                    ("code_challenge", len(q.get("code_challenge", "")) == 43),
                    ("state", bool(q.get("state"))),
                    ("redirect_uri", q.get("redirect_uri", "").startswith(self.page_origin)),
                    ("scope", set(q.get("scope", "").split()) >= {"openid"}),
                )
                if not ok
            ]
            if problems:
                return JSONResponse({"error": "invalid_request", "bad": problems}, status_code=400)
            code = secrets.token_urlsafe(16)
            self._grants[code] = _Grant(q["code_challenge"], q["redirect_uri"])
            return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}")

        async def token(request: Request) -> Response:
            form = {key: values[0] for key, values in parse_qs((await request.body()).decode()).items()}
            self.token_requests.append(form)
            grant = self._grants.pop(form.get("code", ""), None)  # a code works once
            verifier = form.get("code_verifier", "").encode()
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=").decode()
            ok = (
                grant is not None
                and form.get("grant_type") == "authorization_code"
                and form.get("client_id") == self.client_id
                and form.get("redirect_uri") == grant.redirect_uri
                and challenge == grant.challenge
            )
            cors = {"Access-Control-Allow-Origin": self.page_origin}
            if not ok:
                return JSONResponse({"error": "invalid_grant"}, status_code=400, headers=cors)
            body: dict[str, Any] = {
                "access_token": self.signing_key.mint(self.user, ttl_s=3600),
                "id_token": self.signing_key.mint(self.user, ttl_s=3600),
                "token_type": "Bearer",
                "expires_in": 3600,
            }
            return JSONResponse(body, headers=cors)

        async def logout(request: Request) -> Response:
            if request.query_params.get("client_id") != self.client_id:
                return JSONResponse({"error": "invalid_request"}, status_code=400)
            return RedirectResponse(request.query_params["logout_uri"])

        return Starlette(
            routes=[
                Route("/oauth2/authorize", authorize),
                Route("/oauth2/token", token, methods=["POST"]),
                Route("/logout", logout),
            ]
        )

    def start(self) -> "FakeHostedUi":
        self._server = uvicorn.Server(
            uvicorn.Config(self._app(), host="127.0.0.1", port=self.port, log_level="warning")
        )
        threading.Thread(target=self._server.run, daemon=True).start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise TimeoutError("the fake hosted UI did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True

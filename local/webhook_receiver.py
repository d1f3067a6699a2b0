"""A webhook receiver on this machine: what a user's endpoint does with our deliveries, for `make run`
(`make webhook-receiver SECRET=whsec_...`) and the tests.

Every POST is kept (headers and body as received) and, given the endpoint's secret, verified by the
Standard Webhooks reference library (`standardwebhooks`, not our own signing code). `answers` scripts
the status codes it replies with, one per request (then 200), so a test can make it fail first.
"""

import argparse
import json
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def payload(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed

    def verified_with(self, secret: str) -> dict[str, Any]:
        """The payload, once the reference library accepted its signature (else it raises)."""
        verified: dict[str, Any] = Webhook(secret).verify(self.body, self.headers)
        return verified


@dataclass
class WebhookReceiver:
    answers: list[int] = field(default_factory=list)
    answer_body: bytes | None = None  # instead of the short JSON answer
    received: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _arrived: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self._arrived = threading.Condition(self._lock)

    def _take(self, request: Received) -> int:
        with self._arrived:
            self.received.append(request)
            self._arrived.notify_all()
            return self.answers.pop(0) if self.answers else 200

    def wait_for(self, count: int, timeout_s: float) -> list[Received]:
        """Block until `count` requests arrived (or the timeout passed); what arrived."""
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.received) >= count, timeout=timeout_s)
            return list(self.received)

    @contextmanager
    def serving(self, port: int = 0) -> Iterator[str]:
        """Serve on 127.0.0.1 (any free port by default) while the block runs; yields the base URL."""
        server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        thread = threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()


def _handler_for(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = Received(
                path=self.path,
                headers={name.lower(): value for name, value in self.headers.items()},
                body=self.rfile.read(length),
            )
            status = receiver._take(request)
            answer = receiver.answer_body or json.dumps({"received": status < 300}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the tests and the command print what matters themselves

    return Handler


def describe(request: Received, secret: str | None) -> str:
    """One line for the terminal: the event, its job, and whether the signature verified."""
    try:
        payload = request.verified_with(secret) if secret else request.payload()
        verdict = "signature verified" if secret else "not verified (no SECRET given)"
    except WebhookVerificationError as refused:
        payload, verdict = request.payload(), f"SIGNATURE REFUSED: {refused}"
    data = payload.get("data", {})
    return (
        f"{request.headers.get('webhook-id')} {payload.get('type')} job {data.get('job_id')}: "
        f"{data.get('previous_status')} -> {data.get('status')}, cost {data.get('current_cost')} "
        f"({verdict})"
    )


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=9400)
    parser.add_argument("--secret", default="", help="the endpoint's whsec_ secret, to verify signatures")
    args = parser.parse_args(list(argv) if argv is not None else None)
    receiver = WebhookReceiver()
    with receiver.serving(args.port) as url:
        print(f"Receiving webhooks on {url}/ (register it with POST /webhooks); Ctrl-C stops.", flush=True)
        seen = 0
        try:
            while True:
                arrived = receiver.wait_for(seen + 1, timeout_s=3600)
                for request in arrived[seen:]:
                    print(describe(request, args.secret or None), flush=True)
                seen = len(arrived)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()

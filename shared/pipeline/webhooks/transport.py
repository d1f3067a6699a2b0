"""One POST of a webhook delivery to the address webhooks.addresses checked (pinned: the connection goes
to that address; TLS still verifies the certificate against the URL's host name, sent as SNI).

At most `timeout_s` in all, connect to last byte (a receiver trickling its answer is cut off), no
redirect followed (a 3xx is an answer like any other, not a success), and only the first bytes of the
answer's body read and kept.
"""

import contextlib
import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Final

from pipeline.webhooks.addresses import IpAddress, Receiver

RESPONSE_PREFIX_BYTES: Final = 512
USER_AGENT: Final = "PIPELINE-Webhooks/1"


@dataclass(frozen=True)
class Answer:
    status: int
    body_prefix: str


class PostFailed(Exception):
    """No answer: refused, timed out, reset, or TLS failed. The message is safe to show the endpoint's
    owner (it names the failure, never our internals)."""


def post(
    receiver: Receiver,
    address: IpAddress,
    *,
    headers: dict[str, str],
    body: bytes,
    timeout_s: float,
    tls: ssl.SSLContext | None = None,
) -> Answer:
    connection: _PinnedHttp | _PinnedHttps
    if receiver.scheme == "https":
        connection = _PinnedHttps(receiver.host, receiver.port, address, timeout_s, tls or _default_tls())
    else:
        connection = _PinnedHttp(receiver.host, receiver.port, address, timeout_s)
    # At the deadline (the connection's own, for its connect), the timer shuts the socket down from
    # another thread: that ends whatever read or write is waiting on it. What was read from a socket
    # cut so is incomplete (a cut reads as the end of the answer), never an answer.
    cut = threading.Event()
    deadline = threading.Timer(timeout_s, _cut, args=(connection, cut))
    deadline.daemon = True
    deadline.start()
    timed_out = PostFailed(f"No answer within {timeout_s:g} s")
    try:
        connection.request(
            "POST",
            receiver.target,
            body=body,
            headers=headers | {"Content-Type": "application/json", "User-Agent": USER_AGENT},
        )
        response = connection.getresponse()
        prefix = response.read(RESPONSE_PREFIX_BYTES)
        answer = Answer(status=response.status, body_prefix=storable_prefix(prefix))
    except (OSError, http.client.HTTPException) as exc:  # ssl.SSLError and TimeoutError are OSErrors
        if cut.is_set() or isinstance(exc, TimeoutError):
            raise timed_out from None
        raise PostFailed(failure(exc)) from None
    finally:
        deadline.cancel()
        connection.close()
    if cut.is_set():
        raise timed_out
    return answer


def storable_prefix(prefix: bytes) -> str:
    """A receiver's answer as text the database can hold: invalid UTF-8 and NUL characters (text holds
    none) become U+FFFD. Only a record of what came back, never parsed."""
    return prefix.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


def _cut(connection: http.client.HTTPConnection, cut: threading.Event) -> None:
    cut.set()
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed
            sock.shutdown(socket.SHUT_RDWR)


def _connect(address: IpAddress, port: int, deadline: float) -> socket.socket:
    """A TCP connection to the checked address, its timeout what is left of the deadline."""
    sock = socket.create_connection((str(address), port), max(deadline - time.monotonic(), 0.001))
    sock.settimeout(max(deadline - time.monotonic(), 0.001))  # past the deadline, the cut ends it
    return sock


def failure(exc: BaseException) -> str:
    """What went wrong, in words for the endpoint's owner (the deliveries list shows it)."""
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed: {getattr(exc, 'reason', None) or 'handshake refused'}"
    if isinstance(exc, ConnectionRefusedError):
        return "Connection refused"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "The receiver closed the connection without answering"
    if isinstance(exc, ConnectionResetError):
        return "Connection reset by the receiver"
    if isinstance(exc, http.client.HTTPException):
        return "The receiver's answer was not valid HTTP"
    return "Connection failed"


_tls_context: ssl.SSLContext | None = None


def _default_tls() -> ssl.SSLContext:
    """The system's CA certificates, verified against the host name; built once (loading them is slow)."""
    global _tls_context
    if _tls_context is None:
        _tls_context = ssl.create_default_context()
    return _tls_context


class _PinnedHttp(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: IpAddress, timeout_s: float) -> None:
        super().__init__(host, port, timeout=timeout_s)
        self._address = address
        self.deadline = time.monotonic() + timeout_s

    def connect(self) -> None:
        self.sock = _connect(self._address, self.port, self.deadline)


class _PinnedHttps(http.client.HTTPSConnection):
    def __init__(
        self, host: str, port: int, address: IpAddress, timeout_s: float, tls: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, timeout=timeout_s, context=tls)
        self._address = address
        self._tls = tls
        self.deadline = time.monotonic() + timeout_s

    def connect(self) -> None:
        raw = _connect(self._address, self.port, self.deadline)
        try:
            self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)
        except BaseException:
            raw.close()
            raise

"""One webhook POST (pipeline/webhooks/transport.py) against real sockets on loopback: the connection goes to
the address it is given while TLS verifies the URL's host name (sent as SNI), a deadline bounds the whole
exchange however the receiver trickles, and each kind of failure is named."""

import socket
import ssl
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pipeline.webhooks import transport as webhook_http
from pipeline.webhooks.addresses import Receiver
from pipeline.webhooks.transport import PostFailed

LOOPBACK = ip_address("127.0.0.1")
BODY = b'{"type":"job.completed"}'


def _certificate(folder: Path, host: str) -> tuple[Path, Path]:
    """A self-signed certificate for `host` (its own CA) and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / f"{host}.pem", folder / f"{host}.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


class _Seen:
    def __init__(self) -> None:
        self.sni: list[str | None] = []
        self.hosts: list[str | None] = []


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[tuple[int, Path, _Seen]]:
    """An HTTPS receiver on loopback with a certificate for receiver.test; what it saw."""
    cert_file, key_file = _certificate(tmp_path, "receiver.test")
    seen = _Seen()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            seen.hosts.append(self.headers["Host"])
            self.send_response(202)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    context.sni_callback = lambda sock, name, ctx: seen.sni.append(name)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1], cert_file, seen
    finally:
        server.shutdown()
        server.server_close()


def _trusting(cert_file: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert_file))


def _receiver(host: str, port: int, scheme: str = "https") -> Receiver:
    return Receiver(scheme=scheme, host=host, port=port, target="/in")


def test_https_goes_to_the_given_address_and_verifies_the_urls_host_name(
    https_server: tuple[int, Path, _Seen],
) -> None:
    port, cert_file, seen = https_server

    answer = webhook_http.post(
        _receiver("receiver.test", port),
        LOOPBACK,
        headers={},
        body=BODY,
        timeout_s=5,
        tls=_trusting(cert_file),
    )

    assert (answer.status, answer.body_prefix) == (202, "ok")
    assert seen.sni == ["receiver.test"]  # the name, not the address, is what TLS checked
    assert seen.hosts == [f"receiver.test:{port}"]


def test_a_certificate_for_another_name_fails_tls(
    https_server: tuple[int, Path, _Seen], tmp_path: Path
) -> None:
    port, cert_file, _ = https_server

    with pytest.raises(PostFailed, match=r"^TLS failed: CERTIFICATE_VERIFY_FAILED"):
        webhook_http.post(
            _receiver("other.test", port),
            LOOPBACK,
            headers={},
            body=BODY,
            timeout_s=5,
            tls=_trusting(cert_file),
        )


def test_an_untrusted_certificate_fails_tls(https_server: tuple[int, Path, _Seen]) -> None:
    port, _, _ = https_server
    with pytest.raises(PostFailed, match=r"^TLS failed"):
        webhook_http.post(_receiver("receiver.test", port), LOOPBACK, headers={}, body=BODY, timeout_s=5)


def test_nothing_listening_is_connection_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free, and closed again before the POST
    with pytest.raises(PostFailed, match=r"^Connection refused$"):
        webhook_http.post(_receiver("127.0.0.1", port, "http"), LOOPBACK, headers={}, body=BODY, timeout_s=5)


def _raw_server(answer: list[tuple[bytes, float]]) -> tuple[int, socket.socket]:
    """A server that reads the request and writes `answer`'s chunks, each after its pause."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        connection, _ = server.accept()
        with connection:
            connection.recv(65536)
            try:
                for chunk, pause in answer:
                    time.sleep(pause)
                    connection.sendall(chunk)
            except OSError:
                pass  # the client hung up: what the trickle test wants
            time.sleep(0.5)

    threading.Thread(target=serve, daemon=True).start()
    return server.getsockname()[1], server


def test_an_answer_that_is_not_http_is_named() -> None:
    port, server = _raw_server([(b"SMTP ready\r\n\r\n", 0)])
    with server, pytest.raises(PostFailed, match=r"^The receiver's answer was not valid HTTP$"):
        webhook_http.post(_receiver("127.0.0.1", port, "http"), LOOPBACK, headers={}, body=BODY, timeout_s=5)


def test_a_receiver_trickling_its_answer_is_cut_off_at_the_deadline() -> None:
    # Each byte in time for a per-read timeout; the whole answer far past the deadline.
    trickle = [(b"HTTP/1.1 200 OK\r\n", 0.0)] + [(b"X-Slow: 1\r\n", 0.25)] * 40
    port, server = _raw_server(trickle)
    started = time.monotonic()
    with server, pytest.raises(PostFailed, match=r"^No answer within 1 s$"):
        webhook_http.post(_receiver("127.0.0.1", port, "http"), LOOPBACK, headers={}, body=BODY, timeout_s=1)
    assert time.monotonic() - started < 5  # cut at about 1 s, not after the 10 s the trickle takes


def test_only_a_prefix_of_a_long_answer_is_read() -> None:
    body = b"y" * 100_000
    head = b"HTTP/1.1 500 Oops\r\nContent-Length: %d\r\n\r\n" % len(body)
    port, server = _raw_server([(head + body, 0)])
    with server:
        answer = webhook_http.post(
            _receiver("127.0.0.1", port, "http"), LOOPBACK, headers={}, body=BODY, timeout_s=5
        )
    assert (answer.status, answer.body_prefix) == (500, "y" * webhook_http.RESPONSE_PREFIX_BYTES)

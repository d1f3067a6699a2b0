"""Where a webhook may be delivered: a URL of the public internet, checked when it is registered and
again before every attempt, since what a host name resolves to can change between the two (DNS
rebinding). Every address the name resolves to must be public; the attempt then connects to the one
checked (pinned), never resolving again.

Refused: other schemes than https, credentials in the URL, and any address that is not global unicast:
loopback (127.0.0.0/8, ::1), private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local
(169.254/16 with the cloud metadata service at 169.254.169.254, fe80::/10), shared, reserved,
unspecified and multicast, IPv4 written inside IPv6 included. `allow_local` (the local stack only)
also lets http:// and loopback through, so `make run` can deliver to a receiver on 127.0.0.1.
"""

import ipaddress
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as ResolutionTimeout
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from pydantic import Field

from pipeline.runtime.settings import EnvSettings

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port -> the addresses the host resolves to (getaddrinfo by default; the tests give their own).
Resolver = Callable[[str, int], list[str]]

MAX_URL_LENGTH: Final = 1024


class ReceiverSettings(EnvSettings):
    """Where webhooks may go, for registration and delivery alike."""

    # The local stack only: http:// and loopback receivers (a receiver on 127.0.0.1 in `make run`).
    allow_local_receivers: bool = Field(default=False, alias="WEBHOOKS_ALLOW_LOCAL_RECEIVERS")


class AddressRefused(Exception):
    """The URL, or what its host resolves to, may not receive webhooks: `reason` says why, in words
    safe to show its owner."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class HostUnresolved(Exception):
    """The host name did not resolve (now): nothing to connect to."""


@dataclass(frozen=True)
class Receiver:
    """A webhook URL, split into what a connection to it needs."""

    scheme: str
    host: str  # a name or an address literal (IPv6 without brackets)
    port: int
    target: str  # path and query, as the request line carries them


def parse(url: str, *, allow_local: bool) -> Receiver:
    """The URL's parts, or AddressRefused saying what is wrong with it."""
    if len(url) > MAX_URL_LENGTH:
        raise AddressRefused(f"The URL is longer than {MAX_URL_LENGTH} characters")
    if not url.isascii() or any(char.isspace() or ord(char) < 32 for char in url):
        raise AddressRefused("Send the URL in ASCII (a punycode host name), without spaces")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise AddressRefused("Not a valid URL") from None
    allowed = ("https", "http") if allow_local else ("https",)
    if parts.scheme not in allowed:
        raise AddressRefused("Only https:// URLs can receive webhooks")
    if parts.username is not None or parts.password is not None:
        raise AddressRefused("Credentials cannot be part of the URL: verify deliveries by their signature")
    if parts.fragment:
        raise AddressRefused("A URL with a #fragment cannot receive webhooks")
    host = parts.hostname
    if not host:
        raise AddressRefused("The URL has no host")
    address = _as_address(host)
    if address is not None:
        check(address, allow_local=allow_local)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return Receiver(
        scheme=parts.scheme,
        host=host,
        port=port or (443 if parts.scheme == "https" else 80),
        target=target,
    )


def check(address: IpAddress, *, allow_local: bool) -> None:
    """AddressRefused unless `address` may receive webhooks."""
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    if mapped is not None:
        check(mapped, allow_local=allow_local)
        return
    if allow_local and address.is_loopback:
        return
    if not address.is_global or address.is_multicast:
        raise AddressRefused(f"{address} is not a public internet address")


def public_addresses(receiver: Receiver, *, allow_local: bool, resolve: Resolver) -> list[IpAddress]:
    """Every address the receiver's host resolves to, each checked: AddressRefused if any is refused
    (one public address beside a private one is still refused: the name is not trusted),
    HostUnresolved if there are none."""
    literal = _as_address(receiver.host)
    if literal is not None:
        check(literal, allow_local=allow_local)
        return [literal]
    try:
        resolved = resolve(receiver.host, receiver.port)
    except (OSError, UnicodeError):
        raise HostUnresolved(receiver.host) from None
    addresses = [address for address in map(_as_address, resolved) if address is not None]
    if not addresses:
        raise HostUnresolved(receiver.host)
    for address in addresses:
        try:
            check(address, allow_local=allow_local)
        except AddressRefused:
            raise AddressRefused(f"{receiver.host} resolves to {address}, not a public address") from None
    return addresses


def system_resolver(host: str, port: int) -> list[str]:
    """getaddrinfo's addresses for the host, in its order, each once."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def resolver_with_timeout(timeout_s: float, resolve: Resolver = system_resolver) -> Resolver:
    """`resolve`, given up on after `timeout_s` (getaddrinfo has no timeout of its own): HostUnresolved.
    The lookup left running finishes on its own thread."""
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="resolve")

    def bounded(host: str, port: int) -> list[str]:
        future = pool.submit(resolve, host, port)
        try:
            return future.result(timeout=timeout_s)
        except ResolutionTimeout:
            raise OSError(f"resolving {host} took longer than {timeout_s:g} s") from None

    return bounded


def _as_address(host: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])  # a zone id (fe80::1%eth0) names no network
    except ValueError:
        return None

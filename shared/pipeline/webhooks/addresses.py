"""Where a webhook may be delivered: a URL of the public internet, checked when it is registered and
again before every attempt, since what a host name resolves to can change between the two (DNS
rebinding). Every address the name resolves to must be public; the attempt then connects to the one
checked (pinned), never resolving again.

Refused: other schemes than https, credentials in the URL, and any address that does not reach the
public internet. The decision is made on what an address reaches, from IANA's special-purpose address
registries (IPv4 and IPv6) written out below, not from `ipaddress.is_global` alone (which calls
[::127.0.0.1] and [64:ff9b::a9fe:a9fe] global on Python 3.11 and 3.12):
- an IPv4 address in any special-purpose block (loopback, private, shared, link-local with the cloud
  metadata service at 169.254.169.254, documentation, benchmarking, reserved, anycast services, ...) or
  in multicast;
- an IPv6 address outside global unicast (2000::/3: so loopback, unspecified, unique-local, link-local,
  site-local fec0::/10, multicast), or inside a special-purpose block of it (documentation, IETF
  protocol assignments with Teredo, 6to4, ...);
- an IPv6 address that carries an IPv4 address (IPv4-mapped, IPv4-compatible, IPv4-translated, NAT64,
  6to4, Teredo) is judged by that IPv4 address first; only the mapped form and the well-known NAT64
  prefix reach it, so only they pass, and only when it does.
`allow_local` (the local stack only) also lets http:// and loopback through, so `make run` can
deliver to a receiver on 127.0.0.1.
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


_V4: Final = ipaddress.IPv4Network
_V6: Final = ipaddress.IPv6Network
# IANA IPv4 Special-Purpose Address Registry (every entry, whatever its "globally reachable": no
# webhook receiver lives at an anycast service address), and multicast.
SPECIAL_IPV4: Final = tuple(
    _V4(block)
    for block in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.0.2.0/24", "192.31.196.0/24", "192.52.193.0/24", "192.88.99.0/24",
        "192.168.0.0/16", "192.175.48.0/24", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
        "224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32",
    )
)  # fmt: skip
GLOBAL_UNICAST_IPV6: Final = _V6("2000::/3")
# IANA IPv6 Special-Purpose Address Registry, the entries inside 2000::/3 (the rest lie outside it).
SPECIAL_IPV6: Final = tuple(
    _V6(block) for block in ("2001::/23", "2001:db8::/32", "2002::/16", "2620:4f:8000::/48", "3fff::/20")
)
_MAPPED: Final = _V6("::ffff:0:0/96")
_COMPATIBLE: Final = _V6("::/96")
_TRANSLATED: Final = _V6("::ffff:0:0:0/96")
_NAT64: Final = _V6("64:ff9b::/96")
_NAT64_LOCAL: Final = _V6("64:ff9b:1::/48")
_SIX_TO_FOUR: Final = _V6("2002::/16")
_TEREDO: Final = _V6("2001::/32")


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (RFC 4291 mapped and compatible, RFC 2765 translated,
    RFC 6052 NAT64 with the well-known and local-use prefixes, RFC 3056 6to4, RFC 4380 Teredo's server
    and client), for the check to judge; none for an ordinary IPv6 address."""
    value = int(address)
    low32 = ipaddress.IPv4Address(value & 0xFFFFFFFF)
    if address in (ipaddress.IPv6Address("::"), ipaddress.IPv6Address("::1")):
        return []
    if address in _MAPPED or address in _COMPATIBLE or address in _TRANSLATED or address in _NAT64:
        return [low32]
    if address in _NAT64_LOCAL:
        # RFC 8215 leaves the prefix length to the network: with /96 the IPv4 address is the last 32 bits;
        # with /48 (RFC 6052) its first two octets are bits 48-63 and its last two bits 72-87.
        at_48 = ipaddress.IPv4Address(((value >> 64) & 0xFFFF) << 16 | (value >> 40) & 0xFFFF)
        return list(dict.fromkeys([low32, at_48]))
    if address in _SIX_TO_FOUR:
        return [ipaddress.IPv4Address((value >> 80) & 0xFFFFFFFF)]
    if address in _TEREDO:
        server, client = address.teredo or (low32, low32)
        return [server, client]
    return []


def check(address: IpAddress, *, allow_local: bool) -> None:
    """AddressRefused unless `address` reaches the public internet (or, with `allow_local`, loopback)."""
    if isinstance(address, ipaddress.IPv4Address):
        if allow_local and address.is_loopback:
            return
        if any(address in block for block in SPECIAL_IPV4):
            raise AddressRefused(f"{address} is not a public internet address")
        return
    embedded = embedded_ipv4(address)
    for inner in embedded:
        try:
            check(inner, allow_local=allow_local)
        except AddressRefused:
            raise AddressRefused(
                f"{address} (which carries {inner}) is not a public internet address"
            ) from None
    if embedded and (address in _MAPPED or address in _NAT64):
        return  # these two reach the IPv4 address they carry, which passed
    if allow_local and address.is_loopback:
        return
    if address not in GLOBAL_UNICAST_IPV6 or any(address in block for block in SPECIAL_IPV6):
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

"""Where webhooks may go: https on the public internet only, every address a host name resolves to
checked (a name is only as safe as what it resolves to)."""

import ipaddress
from collections.abc import Callable

import pytest

from pipeline.webhooks import addresses as webhook_addresses
from pipeline.webhooks.addresses import AddressRefused, HostUnresolved


def _resolver(*addresses: str) -> Callable[[str, int], list[str]]:
    return lambda host, port: list(addresses)


def _refused(url: str, *resolved: str, allow_local: bool = False) -> str:
    def check() -> None:
        receiver = webhook_addresses.parse(url, allow_local=allow_local)
        webhook_addresses.public_addresses(receiver, allow_local=allow_local, resolve=_resolver(*resolved))

    with pytest.raises(AddressRefused) as refused:
        check()
    return refused.value.reason


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://127.8.9.10/hook",
        "https://10.0.0.1/hook",
        "https://10.255.255.254:8443/hook",
        "https://172.16.0.1/hook",
        "https://192.168.1.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://100.64.0.1/hook",
        "https://0.0.0.0/hook",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[::ffff:169.254.169.254]/hook",
        "https://[fd00:ec2::254]/hook",
        "https://[fe80::1]/hook",
        "https://224.0.0.1/hook",
    ],
)
def test_an_address_that_is_not_public_is_refused(url: str) -> None:
    assert "is not a public internet address" in _refused(url)


@pytest.mark.parametrize(
    "resolved",
    [["127.0.0.1"], ["10.1.2.3"], ["169.254.169.254"], ["::1"], ["93.184.216.34", "10.0.0.5"]],
    ids=["loopback", "private", "metadata", "ipv6 loopback", "one private among public"],
)
def test_a_host_name_resolving_to_a_refused_address_is_refused(resolved: list[str]) -> None:
    reason = _refused("https://hooks.example.com/in", *resolved)
    assert reason.startswith("hooks.example.com resolves to ")
    assert reason.endswith("not a public address")


def test_a_public_host_passes_with_every_address_it_resolves_to() -> None:
    receiver = webhook_addresses.parse("https://hooks.example.com:8443/in?team=ml", allow_local=False)
    addresses = webhook_addresses.public_addresses(
        receiver, allow_local=False, resolve=_resolver("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946")
    )
    assert (receiver.scheme, receiver.host, receiver.port, receiver.target) == (
        "https", "hooks.example.com", 8443, "/in?team=ml",
    )  # fmt: skip
    assert addresses == [
        ipaddress.ip_address("93.184.216.34"),
        ipaddress.ip_address("2606:2800:220:1:248:1893:25c8:1946"),
    ]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/in", "Only https:// URLs"),
        ("ftp://hooks.example.com/in", "Only https:// URLs"),
        ("https://user:pass@hooks.example.com/in", "Credentials cannot be part of the URL"),
        ("https:///in", "no host"),
        ("https://hooks.example.com/in#frag", "#fragment"),
        ("https://hooks.example.com:99999/in", "Not a valid URL"),
        ("https://hööks.example.com/in", "ASCII"),
        ("https://hooks.example.com/a b", "ASCII"),
        ("https://hooks.example.com/" + "a" * 1024, "longer than 1024"),
    ],
)
def test_a_url_that_cannot_receive_webhooks_says_why(url: str, reason: str) -> None:
    assert reason in _refused(url, "93.184.216.34")


def test_a_public_ipv4_written_inside_ipv6_passes_as_itself() -> None:
    receiver = webhook_addresses.parse("https://[::ffff:93.184.216.34]/in", allow_local=False)
    assert webhook_addresses.public_addresses(receiver, allow_local=False, resolve=_resolver()) == [
        ipaddress.ip_address("::ffff:93.184.216.34")
    ]


def test_locally_http_and_loopback_are_allowed_but_private_networks_are_not() -> None:
    receiver = webhook_addresses.parse("http://127.0.0.1:9400/hooks", allow_local=True)
    assert webhook_addresses.public_addresses(receiver, allow_local=True, resolve=_resolver()) == [
        ipaddress.ip_address("127.0.0.1")
    ]
    named = webhook_addresses.parse("http://localhost:9400/", allow_local=True)
    assert webhook_addresses.public_addresses(named, allow_local=True, resolve=_resolver("::1")) == [
        ipaddress.ip_address("::1")
    ]
    assert "not a public internet address" in _refused("http://10.0.0.1/", allow_local=True)
    assert "not a public internet address" in _refused("http://169.254.169.254/", allow_local=True)


def test_a_host_that_does_not_resolve_is_unresolved_not_refused() -> None:
    def fails(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    receiver = webhook_addresses.parse("https://not-yet.example.com/", allow_local=False)
    with pytest.raises(HostUnresolved):
        webhook_addresses.public_addresses(receiver, allow_local=False, resolve=fails)
    with pytest.raises(HostUnresolved):
        webhook_addresses.public_addresses(receiver, allow_local=False, resolve=_resolver())


def test_the_system_resolver_resolves_localhost_to_loopback_which_is_refused() -> None:
    receiver = webhook_addresses.parse("https://localhost/hook", allow_local=False)
    with pytest.raises(AddressRefused, match="localhost resolves to"):
        webhook_addresses.public_addresses(
            receiver, allow_local=False, resolve=webhook_addresses.system_resolver
        )


def test_a_resolver_past_its_timeout_counts_as_unresolved() -> None:
    import threading

    release = threading.Event()

    def hangs(host: str, port: int) -> list[str]:
        release.wait(5)
        return ["93.184.216.34"]

    bounded = webhook_addresses.resolver_with_timeout(0.05, hangs)
    receiver = webhook_addresses.parse("https://slow.example.com/", allow_local=False)
    try:
        with pytest.raises(HostUnresolved):
            webhook_addresses.public_addresses(receiver, allow_local=False, resolve=bounded)
    finally:
        release.set()


# IANA IPv4 Special-Purpose Address Registry (every entry, 2025), and multicast.
IANA_IPV4 = [
    "0.0.0.0/8", "0.0.0.0/32", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.0.0.0/29", "192.0.0.8/32", "192.0.0.9/32", "192.0.0.10/32",
    "192.0.0.170/32", "192.0.0.171/32", "192.0.2.0/24", "192.31.196.0/24", "192.52.193.0/24",
    "192.88.99.0/24", "192.168.0.0/16", "192.175.48.0/24", "198.18.0.0/15", "198.51.100.0/24",
    "203.0.113.0/24", "240.0.0.0/4", "255.255.255.255/32", "224.0.0.0/4",
]  # fmt: skip
# IANA IPv6 Special-Purpose Address Registry (every entry, 2025), site-local, multicast, and the
# deprecated forms that carry an IPv4 address.
IANA_IPV6 = [
    "::1/128", "::/128", "::ffff:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "100:0:0:1::/64",
    "2001::/23", "2001::/32", "2001:1::1/128", "2001:1::2/128", "2001:1::3/128", "2001:2::/48",
    "2001:3::/32", "2001:4:112::/48", "2001:10::/28", "2001:20::/28", "2001:30::/28", "2001:db8::/32",
    "2002::/16", "2620:4f:8000::/48", "3fff::/20", "5f00::/16", "fc00::/7", "fe80::/10",
    "fec0::/10", "ff00::/8", "::/96", "::ffff:0:0:0/96",
]  # fmt: skip


# Judged by the IPv4 address they carry (the first carries 0.0.0.0, the last 255.255.255.255; a public
# one passes: see below).
REACHES_ITS_IPV4 = {"::ffff:0:0/96", "64:ff9b::/96"}


def _addresses_of(block: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    network = ipaddress.ip_network(block)
    middle = network.network_address + network.num_addresses // 2
    if block in REACHES_ITS_IPV4:
        return [network.network_address, network.broadcast_address]
    return [network.network_address, middle, network.broadcast_address]


@pytest.mark.parametrize("block", IANA_IPV4 + IANA_IPV6)
def test_no_address_of_a_special_purpose_block_receives_webhooks(block: str) -> None:
    for address in _addresses_of(block):
        with pytest.raises(AddressRefused, match="is not a public internet address"):
            webhook_addresses.check(address, allow_local=False)


@pytest.mark.parametrize(
    "address",
    [
        "::127.0.0.1", "::169.254.169.254", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::10.0.0.5",
        "64:ff9b:1::a00:5", "2002:7f00:1::", "2002:a9fe:a9fe::", "::ffff:0:7f00:1", "::ffff:0:a9fe:a9fe",
        "fec0::1",
    ],
)  # fmt: skip
def test_an_internal_address_written_inside_ipv6_is_refused_deployed(address: str) -> None:
    # The eleven that Python's is_global let through on 3.11 and 3.12 (an adversarial pass found them).
    assert "is not a public internet address" in _refused(f"https://[{address}]/in")
    assert _refused("https://hooks.example.com/in", address).endswith(", not a public address")


@pytest.mark.parametrize(
    ("address", "carries"),
    [
        ("::ffff:a00:5", "10.0.0.5"),
        ("::a00:5", "10.0.0.5"),
        ("::ffff:0:a00:5", "10.0.0.5"),
        ("64:ff9b::a00:5", "10.0.0.5"),
        ("64:ff9b:1::a00:5", "10.0.0.5"),
        ("64:ff9b:1:a00:0:500::", "10.0.0.5"),
        ("2002:a00:5::1", "10.0.0.5"),
        ("2001:0:4136:e378:8000:63bf:f5ff:fffa", "10.0.0.5"),  # Teredo: the client, its bits inverted
    ],
)
def test_the_ipv4_address_an_ipv6_one_carries_is_found_in_every_form(address: str, carries: str) -> None:
    assert ipaddress.IPv4Address(carries) in webhook_addresses.embedded_ipv4(ipaddress.IPv6Address(address))


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "93.184.216.34", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]
)
def test_a_public_address_and_the_forms_that_reach_one_pass(address: str) -> None:
    webhook_addresses.check(ipaddress.ip_address(address), allow_local=False)


@pytest.mark.parametrize("address", ["2002:808:808::", "2001:0:4136:e378:8000:63bf:f7f7:f7f7", "::8.8.8.8"])
def test_a_form_that_does_not_reach_the_public_address_it_carries_is_refused(address: str) -> None:
    # 6to4, Teredo and IPv4-compatible carry 8.8.8.8 but connect elsewhere (a relay, a NAT, nowhere).
    with pytest.raises(AddressRefused):
        webhook_addresses.check(ipaddress.ip_address(address), allow_local=False)


def test_locally_loopback_passes_in_every_form_but_private_networks_never_do() -> None:
    for address in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
        webhook_addresses.check(ipaddress.ip_address(address), allow_local=True)
    for address in ("10.0.0.5", "::ffff:10.0.0.5", "169.254.169.254", "fd00::1"):
        with pytest.raises(AddressRefused):
            webhook_addresses.check(ipaddress.ip_address(address), allow_local=True)

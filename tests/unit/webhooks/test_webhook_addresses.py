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

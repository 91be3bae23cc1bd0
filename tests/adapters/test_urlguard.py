"""The address policy: which addresses are not public (in every spelling), the decision the
connection makes (resolve once, refuse if any address is not allowed), and the early
pre-check that never asks DNS."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from aiadmin.adapters import urlguard
from aiadmin.adapters.errors import ConfigurationError, ProviderConnectionError
from aiadmin.adapters.urlguard import (
    _is_private,
    addresses_to_dial,
    allows_private_network,
    check_base_url,
    non_public_range,
    request_policy,
)

# (address, a word of the range it must be named as)
NON_PUBLIC = [
    # IPv4
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"),
    ("100.64.0.1", "shared address space"),
    ("100.127.255.254", "shared address space"),
    ("0.0.0.0", "unspecified"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("192.0.0.8", "IETF protocol assignments"),
    ("192.0.2.1", "documentation"),
    ("198.51.100.7", "documentation"),
    ("203.0.113.9", "documentation"),
    ("198.18.0.1", "benchmarking"),
    # IPv6
    ("::", "unspecified"),
    ("::1", "loopback"),
    ("fc00::1", "unique local"),
    ("fd12:3456::1", "unique local"),
    ("fd00:ec2::254", "unique local"),  # AWS instance metadata over IPv6
    ("fe80::1", "link-local"),
    ("fe80::1%eth0", "zone id"),
    ("fe80::1%25eth0", "zone id"),  # the zone as a URL spells it
    ("2606:4700::1111%eth0", "zone id"),  # a zone id only makes sense on a link
    ("fec0::1", "site-local"),
    ("ff02::1", "multicast"),
    ("ff0e::1", "multicast"),
    ("100::1", "discard-only"),
    ("2001:db8::1", "documentation"),
    ("3fff::1", "documentation"),
    ("2001:2::1", "benchmarking"),
    # IPv4-mapped ::ffff:0:0/96, judged by the IPv4 address it carries
    ("::ffff:127.0.0.1", "IPv4-mapped address of 127.0.0.1, loopback"),
    ("::ffff:7f00:1", "IPv4-mapped address of 127.0.0.1, loopback"),
    ("::ffff:10.0.0.1", "IPv4-mapped address of 10.0.0.1, private"),
    ("::ffff:169.254.169.254", "IPv4-mapped address of 169.254.169.254, link-local"),
    ("::ffff:100.64.0.1", "IPv4-mapped address of 100.64.0.1, shared address space"),
    # IPv4-compatible ::a.b.c.d (deprecated): refused whatever it carries
    ("::127.0.0.1", "IPv4-compatible"),
    ("::10.0.0.1", "IPv4-compatible"),
    ("::8.8.8.8", "IPv4-compatible"),
    # NAT64 well-known prefix 64:ff9b::/96: the IPv4 address in the last 32 bits
    ("64:ff9b::127.0.0.1", "NAT64 address of 127.0.0.1, loopback"),
    ("64:ff9b::7f00:1", "NAT64 address of 127.0.0.1, loopback"),
    ("64:ff9b::a9fe:a9fe", "NAT64 address of 169.254.169.254, link-local"),
    ("64:ff9b::10.0.0.1", "NAT64 address of 10.0.0.1, private"),
    ("64:ff9b::c0a8:101", "NAT64 address of 192.168.1.1, private"),
    # NAT64 local-use 64:ff9b:1::/48: whatever it carries
    ("64:ff9b:1::1", "NAT64 local-use"),
    ("64:ff9b:1::808:808", "NAT64 local-use"),
    # 6to4 2002::/16: the IPv4 address in bits 16-48
    ("2002:7f00:1::", "6to4 address of 127.0.0.1, loopback"),
    ("2002:a00:1::1", "6to4 address of 10.0.0.1, private"),
    ("2002:a9fe:a9fe::1", "6to4 address of 169.254.169.254, link-local"),
    # Teredo 2001::/32: refused altogether (client address obfuscated behind a relay)
    ("2001:0:5ef5:79fd::80ff:fffe", "Teredo"),  # client 127.0.0.1
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),  # RFC 4380 example, client 192.0.2.45
    ("2001:0:5ef5:79fd::f7f7:f7f7", "Teredo"),  # client 8.8.8.8: still refused
]

PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.215.14",
    "2606:4700:4700::1111",
    "2a00:1450:4001:82a::200e",
    "::ffff:8.8.8.8",  # the same host as 8.8.8.8 on a dual-stack socket
    "64:ff9b::8.8.8.8",  # how a DNS64/NAT64 network reaches a public IPv4 provider
    "2002:808:808::1",  # 6to4 of a public address
]


@pytest.mark.parametrize(("address", "range_name"), NON_PUBLIC)
def test_non_public_addresses_are_refused_and_name_their_range(address: str, range_name: str) -> None:
    assert _is_private(address)
    assert range_name in (non_public_range(address) or "")


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    assert not _is_private(address)
    assert non_public_range(address) is None


def test_the_teredo_spelling_used_above_really_hides_loopback() -> None:
    server, client = ipaddress.IPv6Address("2001:0:5ef5:79fd::80ff:fffe").teredo
    assert str(client) == "127.0.0.1" and not server.is_private


def test_a_host_name_is_not_classified_as_an_address() -> None:
    with pytest.raises(ValueError):
        _is_private("api.openai.com")


# --- the decision the connection makes -----------------------------------------------


def resolving(monkeypatch: pytest.MonkeyPatch, *answers: object) -> list[str]:
    """Script ``urlguard._resolve``; returns the list of names looked up."""
    lookups: list[str] = []
    script = list(answers)

    async def resolve(host: str, port: int) -> tuple[str, ...]:
        lookups.append(host)
        answer = script.pop(0) if len(script) > 1 else script[0]
        if isinstance(answer, BaseException):
            raise answer
        return answer  # type: ignore[return-value]

    monkeypatch.setattr(urlguard, "_resolve", resolve)
    return lookups


async def test_every_resolved_address_is_returned_in_order_after_one_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    lookups = resolving(monkeypatch, ("2606:4700::1111", "93.184.215.14"))
    assert await addresses_to_dial("api.example.com", 443, allow_private_network=False) == (
        "2606:4700::1111",
        "93.184.215.14",
    )
    assert lookups == ["api.example.com"]


@pytest.mark.parametrize("answer", [("93.184.215.14", "10.0.0.7"), ("::ffff:127.0.0.1",), ("64:ff9b::a00:7", "8.8.8.8")])
async def test_one_non_public_answer_refuses_the_name(monkeypatch: pytest.MonkeyPatch, answer: tuple[str, ...]) -> None:
    resolving(monkeypatch, answer)
    with pytest.raises(ConfigurationError, match="allow_private_network"):
        await addresses_to_dial("api.example.com", 443, allow_private_network=False)


@pytest.mark.parametrize("error", [socket.gaierror(socket.EAI_NONAME, "Name or service not known"), UnicodeError("label")])
async def test_a_failed_lookup_fails_closed(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    resolving(monkeypatch, error)
    with pytest.raises(ProviderConnectionError, match="Could not resolve the host name api.example.com"):
        await addresses_to_dial("api.example.com", 443, allow_private_network=False)


async def test_private_answers_pass_where_the_provider_allows_private_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    resolving(monkeypatch, ("10.0.0.7", "127.0.0.1"))
    assert await addresses_to_dial("ollama.corp", 11434, allow_private_network=True) == ("10.0.0.7", "127.0.0.1")


@pytest.mark.parametrize("answer", ["169.254.169.254", "fd00:ec2::254", "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe"])
async def test_cloud_metadata_is_refused_even_where_private_networks_are_allowed(
    monkeypatch: pytest.MonkeyPatch, answer: str
) -> None:
    resolving(monkeypatch, (answer,))
    with pytest.raises(ConfigurationError, match="metadata"):
        await addresses_to_dial("metadata.example", 80, allow_private_network=True)


async def test_an_address_literal_is_checked_without_a_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    lookups = resolving(monkeypatch, AssertionError("no lookup for a literal"))
    assert await addresses_to_dial("8.8.8.8", 443, allow_private_network=False) == ("8.8.8.8",)
    with pytest.raises(ConfigurationError, match="loopback"):
        await addresses_to_dial("::1", 443, allow_private_network=False)
    assert lookups == []


def test_only_an_explicit_true_marks_a_request_as_allowed_private_addresses() -> None:
    assert allows_private_network(request_policy(allow_private_network=True))
    assert not allows_private_network(request_policy(allow_private_network=False))
    assert not allows_private_network({})
    assert not allows_private_network({urlguard.ALLOW_PRIVATE_NETWORK: "yes"})


# --- the early pre-check ---------------------------------------------------------------


async def test_the_pre_check_never_resolves_a_name(monkeypatch: pytest.MonkeyPatch) -> None:
    lookups = resolving(monkeypatch, ("127.0.0.1",))
    await check_base_url("https://intranet.corp.example/v1", allow_private_network=False)
    assert lookups == []  # decided when the connection is made, from the same lookup it dials


@pytest.mark.parametrize(
    "base_url",
    [
        "http://localhost:11434/v1",
        "http://ollama.localhost/v1",
        "http://[::ffff:127.0.0.1]:8000/v1",
        "http://[fe80::1%25eth0]:8080/v1",
        "http://[64:ff9b::a9fe:a9fe]/latest",
        "http://[64:ff9b::a00:7]/v1",
        "http://100.64.1.1/v1",
    ],
)
async def test_the_pre_check_refuses_loopback_names_and_non_public_literals(base_url: str) -> None:
    with pytest.raises(ConfigurationError, match="private-network"):
        await check_base_url(base_url, allow_private_network=False)


async def test_the_pre_check_refuses_cloud_metadata_even_where_private_networks_are_allowed() -> None:
    with pytest.raises(ConfigurationError, match="metadata"):
        await check_base_url("http://169.254.169.254/latest", allow_private_network=True)
    await check_base_url("http://10.0.0.7:11434/v1", allow_private_network=True)

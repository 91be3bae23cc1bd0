"""Outbound address policy: http(s) only, and no loopback, private or otherwise non-public
targets unless the provider's config says ``"allow_private_network": true`` (self-hosted
Ollama, vLLM, ... on the organisation's network).

Two layers, one decision:

* :func:`check_base_url` is the early, clear pre-check before a call (scheme, a left-over
  ``{placeholder}``, an address literal or ``localhost`` that is not allowed). It never asks
  DNS: a name's answer may change between a check and a connect (DNS rebinding).
* :func:`addresses_to_dial` is the decision the connection itself makes: resolve the name
  *once*, refuse if *any* address is not allowed, and hand back exactly the addresses to dial.
  The shared client's transport dials only those (aiadmin/adapters/guarded_resolver.py), so the
  address that was checked is the address that is called, while ``Host`` and TLS (SNI and
  certificate checks) keep the name.

Which policy a request gets travels as a request extension (:func:`request_policy`), set by
the adapters from their provider's config; a request without it gets the strict policy.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import unicodedata
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from .errors import ConfigurationError, ProviderConnectionError

# The request extension that carries the policy; anything but ``True`` means strict.
ALLOW_PRIVATE_NETWORK = "aiadmin.allow_private_network"

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network

# Named, so a refusal can say which range an address is in. Python's ``is_global`` backs these
# up (its tables change between versions; this list does not).
_NON_PUBLIC_V4: tuple[tuple[ipaddress.IPv4Network, str], ...] = (
    (_V4("0.0.0.0/8"), "unspecified / 'this network'"),
    (_V4("10.0.0.0/8"), "private (RFC 1918)"),
    (_V4("100.64.0.0/10"), "shared address space (carrier-grade NAT)"),
    (_V4("127.0.0.0/8"), "loopback"),
    (_V4("169.254.0.0/16"), "link-local (cloud metadata)"),
    (_V4("172.16.0.0/12"), "private (RFC 1918)"),
    (_V4("192.0.0.0/24"), "IETF protocol assignments"),
    (_V4("192.0.2.0/24"), "documentation (TEST-NET-1)"),
    (_V4("192.88.99.0/24"), "6to4 relay anycast (deprecated)"),
    (_V4("192.168.0.0/16"), "private (RFC 1918)"),
    (_V4("198.18.0.0/15"), "benchmarking"),
    (_V4("198.51.100.0/24"), "documentation (TEST-NET-2)"),
    (_V4("203.0.113.0/24"), "documentation (TEST-NET-3)"),
    (_V4("224.0.0.0/4"), "multicast"),
    (_V4("240.0.0.0/4"), "reserved"),
)
_NON_PUBLIC_V6: tuple[tuple[ipaddress.IPv6Network, str], ...] = (
    (_V6("::/128"), "unspecified"),
    (_V6("::1/128"), "loopback"),
    (_V6("::/96"), "IPv4-compatible (deprecated)"),
    (_V6("64:ff9b:1::/48"), "NAT64 local-use"),
    (_V6("100::/64"), "discard-only"),
    # Teredo hides its client address (obfuscated) behind a relay; no API provider lives there.
    (_V6("2001::/32"), "Teredo"),
    (_V6("2001:2::/48"), "benchmarking"),
    (_V6("2001:db8::/32"), "documentation"),
    (_V6("3fff::/20"), "documentation"),
    (_V6("fc00::/7"), "unique local (private; includes AWS metadata fd00:ec2::254)"),
    (_V6("fe80::/10"), "link-local"),
    (_V6("fec0::/10"), "site-local (deprecated)"),
    (_V6("ff00::/8"), "multicast"),
)
_IPV6_GLOBAL_UNICAST = _V6("2000::/3")
_NAT64 = _V6("64:ff9b::/96")
# Cloud instance metadata services: refused even where private networks are allowed, since no
# self-hosted model server lives on them and they hand out the host's credentials.
_CLOUD_METADATA = frozenset(
    ipaddress.ip_address(address)
    for address in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    """The IPv4 address an IPv4-mapped, NAT64 (well-known prefix) or 6to4 address stands for.

    Such an address is judged by the IPv4 address it carries: a NAT64 gateway or a dual-stack
    socket delivers the connection to exactly that host, so a public one is allowed (DNS64
    networks reach public providers that way) and a private one is refused.
    """
    if ip.ipv4_mapped is not None:
        return "IPv4-mapped", ip.ipv4_mapped
    if ip in _NAT64:
        return "NAT64", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return "6to4", ip.sixtofour
    return None


def _non_public_v4(ip: ipaddress.IPv4Address) -> str | None:
    for network, name in _NON_PUBLIC_V4:
        if ip in network:
            return name
    if not ip.is_global or ip.is_multicast:
        return "not globally routable"
    return None


def non_public_range(address: str) -> str | None:
    """The name of the non-public range ``address`` is in, or ``None`` for a public address.

    Accepts any spelling the resolver or a URL may produce, including IPv6 zone ids
    (``fe80::1%eth0``). Raises ``ValueError`` when ``address`` is not an IP address.
    """
    text, _, zone = address.partition("%")
    ip = ipaddress.ip_address(text)
    if zone:
        return "scoped (zone id) address"
    if isinstance(ip, ipaddress.IPv4Address):
        return _non_public_v4(ip)
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        kind, ipv4 = embedded
        inner = _non_public_v4(ipv4)
        return f"{kind} address of {ipv4}, {inner}" if inner else None
    for network, name in _NON_PUBLIC_V6:
        if ip in network:
            return name
    if ip not in _IPV6_GLOBAL_UNICAST or not ip.is_global:
        return "not globally routable"
    return None


def _is_private(address: str) -> bool:
    """True when ``address`` is not a public unicast address (the one classifier of addresses).

    Raises ``ValueError`` when ``address`` is not an IP address (a host name).
    """
    return non_public_range(address) is not None


def _is_cloud_metadata(address: str) -> bool:
    ip = ipaddress.ip_address(address.partition("%")[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            ip = embedded[1]
    return ip in _CLOUD_METADATA


def parse_base_url(base_url: str, *, provider: str | None = None) -> tuple[str, int]:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            "The base URL must be an http:// or https:// address. Fix it on the provider page.", provider=provider
        )
    if "{" in base_url or "}" in base_url:
        raise ConfigurationError(
            "The base URL still holds a {placeholder}: replace it on the provider page "
            "(e.g. your resource, account or region).",
            provider=provider,
        )
    return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


def request_policy(*, allow_private_network: bool) -> dict[str, Any]:
    """The request extensions that tell the shared transport which address policy applies."""
    return {ALLOW_PRIVATE_NETWORK: allow_private_network is True}


def allows_private_network(extensions: Mapping[str, Any]) -> bool:
    """Whether a request was marked as allowed to reach private addresses (strict otherwise)."""
    return extensions.get(ALLOW_PRIVATE_NETWORK) is True


def _ip_literal(host: str) -> str | None:
    """``host`` when it is an IP address (a URL's IPv6 brackets removed), else ``None``."""
    candidate = host.strip("[]")
    try:
        ipaddress.ip_address(candidate.partition("%")[0])
    except ValueError:
        return None
    return candidate


async def _resolve(host: str, port: int) -> tuple[str, ...]:
    """Every address ``host`` resolves to, in the resolver's order (no cache: each new
    connection asks again, and dials what it was told)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return tuple(dict.fromkeys(str(info[4][0]) for info in infos))


def _refusal(host: str, address: str, reason: str) -> ConfigurationError:
    shown = host if host == address else f"{host} ({address})"
    return ConfigurationError(
        f"Refused to connect to {shown}: a {reason} address. If this is a self-hosted server on "
        'the organisation\'s network, a superadmin can allow it with "allow_private_network": true '
        "in the provider's config.",
    )


async def addresses_to_dial(host: str, port: int, *, allow_private_network: bool) -> tuple[str, ...]:
    """Resolve ``host`` once and return the addresses a connection may dial, in order.

    Raises :class:`ConfigurationError` when *any* address is not allowed (one bad answer is
    enough: a resolver may rotate them) and :class:`ProviderConnectionError` when the name
    cannot be resolved (fail closed). Cloud metadata addresses are refused under every policy.

    Independent of the HTTP library: the shared transport's aiohttp resolver calls it for each
    new connection (aiadmin/adapters/guarded_resolver.py), and dials only the addresses returned.
    """
    literal = _ip_literal(host)
    if literal is not None:
        addresses: tuple[str, ...] = (literal,)
    else:
        try:
            addresses = await _resolve(host, port)
        except (OSError, UnicodeError) as err:
            raise ProviderConnectionError(
                f"Could not resolve the host name {host}: check the base URL, and that this server "
                "can resolve it.",
            ) from err
        if not addresses:
            raise ProviderConnectionError(f"The host name {host} resolved to no address: check the base URL.")
    for address in addresses:
        if _is_cloud_metadata(address):
            raise ConfigurationError(
                f"Refused to connect to {host}: {address} is a cloud metadata service address, "
                "never allowed as a provider."
            )
        if not allow_private_network:
            reason = non_public_range(address)
            if reason is not None:
                raise _refusal(host, address, reason)
    return addresses


async def check_base_url(base_url: str, *, allow_private_network: bool, provider: str | None = None) -> None:
    """Raise :class:`ConfigurationError` when a call to ``base_url`` is clearly not allowed.

    An early check with a clear message, before anything is sent: the scheme, a left-over
    placeholder, and an address literal or ``localhost`` name that the policy refuses. Other
    names are decided when the connection is made (:func:`addresses_to_dial`), never from a
    separate lookup here. A coroutine so callers need not change if it ever does I/O again.
    """
    host, port = parse_base_url(base_url, provider=provider)
    literal = _ip_literal(host)
    if literal is None:
        # RFC 6761: localhost names are loopback by definition, whatever a resolver says.
        if host.rstrip(".") == "localhost" or host.rstrip(".").endswith(".localhost"):
            literal = "127.0.0.1"
        else:
            return
    if _is_cloud_metadata(literal):
        raise ConfigurationError(
            f"The base URL points at a cloud metadata service ({host}), a private-network address "
            "that is never allowed for a provider.",
            provider=provider,
        )
    if not allow_private_network and _is_private(literal):
        raise ConfigurationError(
            f"The base URL points at a loopback or private-network address ({host}). If this is a "
            'self-hosted server, a superadmin can allow it with "allow_private_network": true in '
            "the provider's config.",
            provider=provider,
        )


# =========================================================================================
# The check when a base URL is saved (admin form, catalogue import): no DNS lookup (the
# import runs offline on every start), so only what the URL itself says is judged: literal
# addresses in every spelling a resolver accepts, and names local by definition. The
# connection-level guard checks the resolved addresses at call time.
# =========================================================================================


# RFC 6761 (localhost), RFC 6762 (.local and the private names of its appendix G),
# RFC 8375 (home.arpa), ICANN's .internal (2024) and the never-delegated .corp/.home.
LOCAL_NAME_SUFFIXES = ("localhost", "localdomain", "local", "internal", "home.arpa", "lan", "home", "corp", "intranet", "private")
_INET_ATON_SPELLING = re.compile(r"(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}")
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})


def _saved_host(hostname: str) -> str:
    """The host as a resolver will see it: percent-decoded, compatibility characters folded
    (fullwidth digits and letters, ideographic full stops), lowercase, no trailing dot."""
    host = unicodedata.normalize("NFKC", unquote(hostname)).translate(_DOTS).lower()
    return host.rstrip(".")


def _literal_address(host: str) -> str | None:
    """The IP address ``host`` spells, or None when it is a name. Besides the standard forms
    this accepts what ``inet_aton`` does (``127.1``, ``2130706433``, ``0x7f.0.0.1``,
    ``0177.0.0.1``), since the system resolver connects to those too."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if _INET_ATON_SPELLING.fullmatch(host):
        try:
            return socket.inet_ntoa(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _is_local_name(host: str) -> bool:
    return "." not in host or any(host == suffix or host.endswith(f".{suffix}") for suffix in LOCAL_NAME_SUFFIXES)


def base_url_save_problem(base_url: str, *, allow_private_network: bool, name: str = "base URL") -> str | None:
    """Why ``base_url`` may not be saved, or None. Refuses a scheme other than http(s), and a
    loopback or private-network target unless the provider is marked as self-hosted on the
    organisation's network (``allow_private_network``). An empty URL is not judged here.
    ``name`` is what the messages call the URL."""
    if not base_url:
        return None
    try:
        parts = urlsplit(base_url)
        parts.port  # noqa: B018  (raises ValueError for a port out of range)
    except ValueError:
        return "Enter a valid http:// or https:// address."
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"The {name} must be an http:// or https:// address."
    if allow_private_network:
        return None
    host = _saved_host(parts.hostname)
    address = _literal_address(host)
    if address is not None:
        try:
            private = _is_private(address)
        except ValueError:
            private = True  # not an address the classifier understands: refuse, do not guess
        if not private:
            return None
        what = f"the loopback or private-network address {address}"
    elif _is_local_name(host):
        what = f"“{host}”, a name that only exists on a local machine or network"
    else:
        return None
    return (
        f"The {name} points at {what}. If this provider is a self-hosted server on the "
        'organisation\'s network, mark it as such with "allow_private_network": true in its config.'
    )

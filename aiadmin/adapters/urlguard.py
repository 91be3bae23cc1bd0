"""Base URL policy: http(s) only, and no loopback or private-network targets unless the
provider's config says ``"allow_private_network": true`` (self-hosted Ollama, vLLM, ...).

Hostnames are resolved (asynchronously, cached briefly) and every address they resolve to
must pass, so a public-looking name pointing at 127.0.0.1 is refused too.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from urllib.parse import urlsplit

from .errors import ConfigurationError

RESOLVE_CACHE_SECONDS = 60.0
_resolved: dict[str, tuple[float, tuple[str, ...]]] = {}


def _is_private(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


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


async def _resolve(host: str, port: int) -> tuple[str, ...]:
    now = time.monotonic()
    cached = _resolved.get(host)
    if cached and cached[0] > now:
        return cached[1]
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = tuple(sorted({info[4][0] for info in infos}))
    _resolved[host] = (now + RESOLVE_CACHE_SECONDS, addresses)
    return addresses


async def check_base_url(base_url: str, *, allow_private_network: bool, provider: str | None = None) -> None:
    """Raise :class:`ConfigurationError` when a call to ``base_url`` is not allowed."""
    host, port = parse_base_url(base_url, provider=provider)
    if allow_private_network:
        return
    try:
        addresses = (str(ipaddress.ip_address(host)),)
    except ValueError:
        try:
            addresses = await _resolve(host, port)
        except OSError:
            return  # unresolvable: the call itself will fail with a connection error
    if any(_is_private(address) for address in addresses):
        raise ConfigurationError(
            f"The base URL points at a loopback or private-network address ({host}). If this is a "
            'self-hosted server, a superadmin can allow it with "allow_private_network": true in '
            "the provider's config.",
            provider=provider,
        )

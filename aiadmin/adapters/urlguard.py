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


# =========================================================================================
# The check when a base URL is saved (admin form, catalogue import): no DNS lookup (the
# import runs offline on every start), so only what the URL itself says is judged: literal
# addresses in every spelling a resolver accepts, and names local by definition. The
# connection-level guard checks the resolved addresses at call time.
# =========================================================================================

import re  # noqa: E402  (kept with the code that uses them, at the end of the module)
import unicodedata  # noqa: E402
from urllib.parse import unquote  # noqa: E402

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

"""The aiohttp resolver that answers only with addresses the URL guard allowed.

aiohttp's connector asks its resolver for every new connection to a host name (the connector's
own DNS cache is off) and dials exactly the addresses it is given. This resolver asks
:func:`~aiadmin.adapters.urlguard.addresses_to_dial` once, which refuses if any address is not
allowed, so the address that was checked is the address that is dialled. TLS (SNI and the
certificate check) and the ``Host`` header keep the URL's name. IP literals never reach a
resolver; the transport checks them itself (aiadmin/adapters/aiohttp_transport.py).
"""

from __future__ import annotations

import socket

from aiohttp.abc import AbstractResolver, ResolveResult

from .urlguard import addresses_to_dial


class GuardedResolver(AbstractResolver):
    """One address policy, fixed for the resolver's life (so every connection of the connector
    that uses it was opened under the same policy).

    A refusal raises :class:`~aiadmin.adapters.errors.ConfigurationError` and an unresolvable
    name :class:`~aiadmin.adapters.errors.ProviderConnectionError`; neither is an ``OSError``,
    so aiohttp lets both through unchanged for the transport to hand on.
    """

    def __init__(self, *, allow_private_network: bool) -> None:
        self.allow_private_network = allow_private_network

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        addresses = await addresses_to_dial(host, port, allow_private_network=self.allow_private_network)
        return [
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                "proto": socket.IPPROTO_TCP,
                # Already an address: the connector must not look it up again.
                "flags": socket.AI_NUMERICHOST,
            }
            for address in addresses
        ]

    async def close(self) -> None:
        pass  # nothing held

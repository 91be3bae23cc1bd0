"""The httpcore network backend that dials only addresses the URL guard allowed.

httpcore hands ``connect_tcp`` the URL's host name; this backend resolves it once through
:func:`~aiadmin.adapters.urlguard.addresses_to_dial` (which refuses if any address is not
allowed) and connects to one of the returned addresses itself. httpcore then starts TLS with
``server_hostname`` set to the URL's host (``httpcore/_async/connection.py``), so SNI and the
certificate check use the name, and the ``Host`` header is built from the URL as always: a
name cannot answer one address to the check and another to the connection.
"""

from __future__ import annotations

import asyncio
import time
import typing

import httpcore

from .errors import ProviderConnectionError
from .urlguard import addresses_to_dial

SocketOption = typing.Union[
    tuple[int, int, int],
    tuple[int, int, typing.Union[bytes, bytearray]],
    tuple[int, int, None, int],
]


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """One address policy: private addresses allowed or not (fixed for the backend's life, so
    every connection of the pool that uses it was opened under the same policy)."""

    def __init__(self, *, allow_private_network: bool, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self.allow_private_network = allow_private_network
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            async with asyncio.timeout(timeout):
                addresses = await addresses_to_dial(host, port, allow_private_network=self.allow_private_network)
        except TimeoutError as err:
            raise httpcore.ConnectTimeout(f"Resolving {host} timed out.") from err
        except ProviderConnectionError as err:
            # Unresolvable: the same as any failed connect (mapped, and retried like one).
            raise httpcore.ConnectError(err.message) from err
        options = list(socket_options or ())
        failure: Exception = httpcore.ConnectError(f"{host} resolved to no address.")
        for address in addresses:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise httpcore.ConnectTimeout(f"Connecting to {host} timed out.")
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout=remaining, local_address=local_address, socket_options=options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as err:
                failure = err  # try the next address the name resolved to
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("Unix sockets are not an allowed destination.")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)

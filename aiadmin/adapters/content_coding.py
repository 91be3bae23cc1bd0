"""Response bodies undone from their ``Content-Encoding`` in bounded steps (no Django here).

httpx inflates each network chunk whole: one 64 KiB chunk of a gzip bomb becomes about 64 MB
before any cap can look at it, and an upstream may compress whatever we put in
``Accept-Encoding``. Every body reader (error bodies, answers, image downloads, SSE streams)
takes its bytes from :func:`aiter_body`, which reads the raw bytes and inflates them with
``zlib`` at most :data:`PIECE_BYTES` per step, so a reader's cap stops the read at most one
piece past it.

Supported: identity, ``gzip`` (also ``x-gzip``) and ``deflate`` (zlib-wrapped or raw, as httpx
accepts it), at most :data:`MAX_CODINGS` of them stacked. :data:`ACCEPT_ENCODING` names only
these, whatever optional decoders (brotli, zstandard) httpx would find installed: neither
package's Python API can bound the output of one step in all its versions. Any other coding
is refused with :class:`MalformedResponseError` rather than passed on undecoded.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Iterator

import httpx

from .errors import MalformedResponseError

# The most decompressed output one step produces: about one network read's worth.
PIECE_BYTES = 64 * 1024
# Sent on every request (the shared client's default header).
ACCEPT_ENCODING = "gzip, deflate"
# Real servers use one; each layer holds a zlib state and a piece, so the count is bounded.
MAX_CODINGS = 2
# Bytes after the end of a compressed body are ignored (as httpx does), but not without end.
MAX_TRAILING_BYTES = 64 * 1024

_GZIP_WBITS = zlib.MAX_WBITS | 16
_ZLIB_WBITS = zlib.MAX_WBITS
_RAW_DEFLATE_WBITS = -zlib.MAX_WBITS
_CODING_NAMES = {"gzip": "gzip", "x-gzip": "gzip", "deflate": "deflate"}


def aiter_body(response: httpx.Response, *, provider: str | None = None) -> AsyncIterator[bytes]:
    """The body of a streamed ``response``, decoded, in pieces of at most :data:`PIECE_BYTES`
    per decompression step (an identity body comes through as the network gives it, uncopied).

    Raises :class:`MalformedResponseError` for a coding that is not supported (at once) or a
    body that does not decompress (while iterating); httpx's read errors pass through. Close
    the iterator (``aclose``) when stopping early; the response stays the caller's to close.
    """
    if response.is_stream_consumed:
        # Already read whole by httpx (a test's ``content=``): nothing left to bound.
        return response.aiter_bytes()
    codings = _content_codings(response.headers, provider=provider)
    if not codings:
        return response.aiter_raw()
    # Undone in the reverse of the order they were applied.
    inflaters = [_Inflater(coding, provider=provider) for coding in reversed(codings)]
    return _inflated(response.aiter_raw(), inflaters)


def _content_codings(headers: httpx.Headers, *, provider: str | None) -> list[str]:
    codings: list[str] = []
    for value in headers.get_list("content-encoding", split_commas=True):
        name = value.strip().lower()
        if name in ("", "identity"):
            continue
        coding = _CODING_NAMES.get(name)
        if coding is None:
            raise MalformedResponseError(
                f"The provider sent a body compressed as {name[:40]!r}, which is not supported "
                f"(accepted: {ACCEPT_ENCODING}).",
                provider=provider,
            )
        codings.append(coding)
    if len(codings) > MAX_CODINGS:
        raise MalformedResponseError(
            f"The provider sent a body compressed {len(codings)} times over; at most {MAX_CODINGS} are accepted.",
            provider=provider,
        )
    return codings


async def _inflated(raw: AsyncIterator[bytes], inflaters: list[_Inflater]) -> AsyncIterator[bytes]:
    only = inflaters[0] if len(inflaters) == 1 else None
    try:
        async for chunk in raw:
            # One coding (the usual case) skips the layering generator.
            for piece in only.feed(chunk) if only is not None else _through(inflaters, chunk):
                yield piece
    finally:
        await raw.aclose()  # type: ignore[attr-defined]


def _through(inflaters: list[_Inflater], data: bytes) -> Iterator[bytes]:
    # Lazily, layer by layer: a consumer that stops after one piece makes no layer go further.
    first, rest = inflaters[0], inflaters[1:]
    for piece in first.feed(data):
        if rest:
            yield from _through(rest, piece)
        else:
            yield piece


class _Inflater:
    """One content coding undone, never more than :data:`PIECE_BYTES` of output per step."""

    def __init__(self, coding: str, *, provider: str | None) -> None:
        self._coding = coding
        self._provider = provider
        # deflate: zlib-wrapped or raw, told apart by the first two bytes.
        self._inflater = zlib.decompressobj(_GZIP_WBITS) if coding == "gzip" else None
        self._head = b""
        self._bytes_after_end = 0

    def feed(self, data: bytes) -> Iterator[bytes]:
        inflater = self._inflater
        if inflater is None:
            data = self._head + data
            if len(data) < 2:
                self._head = data
                return
            self._head = b""
            inflater = self._inflater = zlib.decompressobj(_ZLIB_WBITS if _is_zlib_header(data) else _RAW_DEFLATE_WBITS)
        while True:
            if inflater.eof:
                # zlib keeps what followed the end in the call that reached it; later input
                # is counted here and dropped.
                self._bytes_after_end += len(data)
                if len(inflater.unused_data) + self._bytes_after_end > MAX_TRAILING_BYTES:
                    raise MalformedResponseError(
                        f"The provider sent more data after the end of its {self._coding} body.",
                        provider=self._provider,
                    )
                return
            try:
                piece = inflater.decompress(data, PIECE_BYTES)
            except zlib.error as err:
                raise MalformedResponseError(
                    f"The provider sent a {self._coding} body that does not decompress.", provider=self._provider
                ) from err
            data = inflater.unconsumed_tail
            if piece:
                yield piece
            # A full piece may leave output inside zlib even when all input was taken.
            if not data and len(piece) < PIECE_BYTES:
                return


def _is_zlib_header(head: bytes) -> bool:
    # RFC 1950: method 8 (deflate), a window of at most 32 KiB, and a check that makes the
    # first two bytes a multiple of 31.
    return head[0] & 0x0F == 8 and head[0] >> 4 <= 7 and (head[0] << 8 | head[1]) % 31 == 0

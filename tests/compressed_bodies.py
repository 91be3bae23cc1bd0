"""Compressed upstream bodies for tests: gzip bombs built cheaply, a raw body served the way
httpcore hands it over (at most 64 KiB per read, never decoded on the way), and a loopback
HTTP server that sends a compressed body as it is."""

from __future__ import annotations

import functools
import zlib
from collections.abc import AsyncIterator

import httpx

from tests.fake_network import ThreadedLoopback, request_heads

# httpcore reads at most this much from the socket at a time.
NETWORK_READ_BYTES = 64 * 1024
GIGABYTE = 1024**3
_SEGMENT = 1024 * 1024
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"


@functools.cache
def gzip_bomb(unit: bytes = b"\0", total: int = GIGABYTE) -> bytes:
    """A valid gzip body of ``unit`` repeated to ``total`` bytes (1 GB of zeros: about 1 MB).

    Compressed once per 1 MiB segment with a full flush after each, so every segment's bytes
    are the same and the body is built by repetition (seconds faster than compressing 1 GB)."""
    segment = unit * (_SEGMENT // len(unit))
    count = total // len(segment)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    compressed_segment = compressor.compress(segment) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(segment, crc)
    size = len(segment) * count
    return b"".join(
        (
            _GZIP_HEADER,
            compressed_segment * count,
            compressor.flush(),
            crc.to_bytes(4, "little"),
            (size & 0xFFFFFFFF).to_bytes(4, "little"),
        )
    )


def gzip_body(data: bytes, *, flush_every: int | None = None) -> bytes:
    """``data`` gzip-compressed; with ``flush_every``, flushed after every that many bytes (as
    a server compressing a stream does, so each event can be decoded as it arrives)."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    if flush_every is None:
        return compressor.compress(data) + compressor.flush()
    parts = [
        compressor.compress(data[start : start + flush_every]) + compressor.flush(zlib.Z_SYNC_FLUSH)
        for start in range(0, len(data), flush_every)
    ]
    return b"".join(parts) + compressor.flush()


class RawBody(httpx.AsyncByteStream):
    """``data`` as raw network bytes, ``chunk`` at a time (nothing here decodes it); counts the
    bytes pulled in ``pulled`` when given."""

    def __init__(self, data: bytes, *, chunk: int = NETWORK_READ_BYTES, pulled: list[int] | None = None) -> None:
        self.data = data
        self.chunk = chunk
        self.pulled = pulled if pulled is not None else []
        self.pulled.append(0)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        view = memoryview(self.data)
        for start in range(0, len(view), self.chunk):
            piece = bytes(view[start : start + self.chunk])
            self.pulled[-1] += len(piece)
            yield piece

    async def aclose(self) -> None:
        pass


class RawHTTPServer(ThreadedLoopback):
    """HTTP/1.1 on 127.0.0.1 answering every request with one fixed status, headers and body,
    sent as they are (a compressed body goes out compressed). Use as a context manager."""

    def __init__(self, body: bytes, *, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.body = body
        self.status = status
        self.headers = headers or {}
        self.requests = 0
        super().__init__()

    def answer(self, sock) -> None:
        try:
            for _head in request_heads(sock.makefile("rb")):
                self.requests += 1
                fields = {**self.headers, "Content-Length": str(len(self.body))}
                sock.sendall(
                    f"HTTP/1.1 {self.status} Status\r\n".encode()
                    + "".join(f"{name}: {value}\r\n" for name, value in fields.items()).encode()
                    + b"\r\n"
                )
                sock.sendall(self.body)
        except OSError:
            return  # the client stopped reading (a cap was reached) and closed

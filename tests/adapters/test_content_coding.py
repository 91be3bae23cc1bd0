"""Compressed response bodies are inflated by aiadmin's own bounded reader: normal gzip and
deflate bodies still decode on every read path, each step yields at most one piece, codings
that cannot be bounded are neither asked for nor accepted, and a broken or padded compressed
body is a clear MalformedResponseError."""

from __future__ import annotations

import json
import re
import tracemalloc
import zlib
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from aiadmin.adapters import content_coding
from aiadmin.adapters import openai as openai_module
from aiadmin.adapters.errors import BadRequestError, MalformedResponseError, UpstreamError
from aiadmin.adapters.types import ImageRequest

from ..compressed_bodies import NETWORK_READ_BYTES, RawBody, gzip_body, gzip_bomb
from .test_hostile_bodies import _adapter, _request

ANSWER = json.dumps(
    {
        "id": "chatcmpl-1",
        "model": "some-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello there"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2},
    }
).encode()
IMAGE_URL = "https://images.example.test/generated/1.png"

Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def serve(mock_upstream) -> Callable[[Handler], list[httpx.Request]]:
    """``serve(handler)`` answers every request with ``handler`` and returns the requests seen."""
    seen: list[httpx.Request] = []

    def install(handler: Handler) -> list[httpx.Request]:
        def record(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return handler(request)

        mock_upstream(record)
        return seen

    return install


def _raw(status: int, body: bytes, encoding: str, *, content_type: str = "application/json", chunk: int = NETWORK_READ_BYTES) -> Handler:
    headers = {"content-type": content_type, "content-encoding": encoding}
    return lambda request: httpx.Response(status, stream=RawBody(body, chunk=chunk), headers=headers)


def _deflate(data: bytes, *, wbits: int) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, wbits)
    return compressor.compress(data) + compressor.flush()


# --- Normal compressed bodies still decode -------------------------------------------------


async def test_a_gzip_answer_still_decodes(serve):
    serve(_raw(200, gzip_body(ANSWER), "gzip"))
    assert (await _adapter("openai").chat(_request())).text == "Hello there"


@pytest.mark.parametrize("chunk", [1, 7, NETWORK_READ_BYTES], ids=["1-byte-reads", "7-byte-reads", "64k-reads"])
@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS], ids=["zlib-wrapped", "raw"])
async def test_a_deflate_answer_decodes_zlib_wrapped_or_raw_however_it_is_split(serve, wbits, chunk):
    # httpx accepts both spellings of "deflate"; the first two bytes tell them apart, even when
    # they arrive in different reads.
    serve(_raw(200, _deflate(ANSWER, wbits=wbits), "deflate", chunk=chunk))
    assert (await _adapter("openai").chat(_request())).text == "Hello there"


async def test_stacked_codings_are_undone_in_reverse_order(serve):
    body = gzip_body(_deflate(ANSWER, wbits=zlib.MAX_WBITS))
    serve(_raw(200, body, "deflate, gzip"))
    assert (await _adapter("openai").chat(_request())).text == "Hello there"


async def test_a_gzip_error_body_still_gives_the_providers_message(serve):
    error = json.dumps({"error": {"message": "Unknown parameter: 'foo'.", "type": "invalid_request_error"}}).encode()
    serve(_raw(400, gzip_body(error), "gzip"))
    with pytest.raises(BadRequestError, match="Unknown parameter"):
        await _adapter("openai").chat(_request())


async def test_a_gzip_stream_decodes_event_by_event(serve):
    events = b"".join(
        b'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"%s"}}]}\n\n' % word for word in (b"one ", b"two")
    ) + b'data: {"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'
    serve(_raw(200, gzip_body(events, flush_every=40), "gzip", content_type="text/event-stream", chunk=25))
    texts = [item.text async for item in _adapter("openai").stream_chat(_request()) if hasattr(item, "text")]
    assert "".join(texts) == "one two"


async def test_a_gzip_image_download_still_decodes(serve):
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 5000

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, json={"created": 1, "data": [{"url": IMAGE_URL}]})
        return _raw(200, gzip_body(png), "gzip", content_type="image/png")(request)

    serve(handler)
    images = await _adapter("openai").generate_image(ImageRequest(model="dall-e-3", prompt="x"))
    assert images[0].data == png


# --- Bounded steps -------------------------------------------------------------------------


async def test_each_step_yields_at_most_one_piece_and_pulls_no_further_read():
    pulled: list[int] = []
    response = httpx.Response(200, stream=RawBody(gzip_bomb(), pulled=pulled), headers={"content-encoding": "gzip"})
    pieces = content_coding.aiter_body(response)
    sizes = [len(await anext(pieces)) for _ in range(50)]
    await pieces.aclose()  # type: ignore[attr-defined]
    # 50 pieces of 64 KiB (3.2 MB of zeros) come out of the first 64 KiB read, one at a time.
    assert sizes == [content_coding.PIECE_BYTES] * 50
    assert pulled == [NETWORK_READ_BYTES]


async def test_a_gzip_bomb_image_download_stops_at_the_image_cap(serve, monkeypatch):
    monkeypatch.setattr(openai_module, "MAX_IMAGE_DOWNLOAD_BYTES", 1024 * 1024)
    bomb = gzip_bomb()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, json={"created": 1, "data": [{"url": IMAGE_URL}]})
        return httpx.Response(200, stream=RawBody(bomb), headers={"content-type": "image/png", "content-encoding": "gzip"})

    serve(handler)
    tracemalloc.start()
    try:
        with pytest.raises(UpstreamError, match="larger than 1 MB"):
            await _adapter("openai").generate_image(ImageRequest(model="dall-e-3", prompt="x"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Before: about 150 MB (one 64 KiB read inflated whole).
    assert peak < 1024 * 1024 + 4 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


# --- Codings that cannot be bounded are neither asked for nor accepted -------------------


async def test_the_client_asks_only_for_codings_it_can_bound(serve, monkeypatch):
    # httpx adds br and zstd to its default when brotli or zstandard happen to be installed.
    monkeypatch.setattr(httpx._client, "ACCEPT_ENCODING", "gzip, deflate, br, zstd")
    seen = serve(lambda request: httpx.Response(200, content=ANSWER, headers={"content-type": "application/json"}))
    await _adapter("openai").chat(_request())
    assert seen[0].headers["accept-encoding"] == content_coding.ACCEPT_ENCODING == "gzip, deflate"


@pytest.mark.parametrize("coding", ["br", "zstd", "compress", "x-unknown"])
async def test_an_unsupported_coding_is_refused_not_passed_on_undecoded(serve, coding):
    # httpx skips a coding it does not know and hands the bytes on as they came.
    serve(_raw(200, ANSWER, coding))
    with pytest.raises(MalformedResponseError, match=f"compressed as '{coding}', which is not supported"):
        await _adapter("openai").chat(_request())


async def test_an_unsupported_coding_on_a_stream_is_refused(serve):
    serve(_raw(200, b"data: [DONE]\n\n", "br", content_type="text/event-stream"))
    with pytest.raises(MalformedResponseError, match="not supported"):
        async for _ in _adapter("openai").stream_chat(_request()):
            pass


async def test_more_stacked_codings_than_allowed_are_refused(serve):
    body = ANSWER
    for _ in range(3):
        body = gzip_body(body)
    serve(_raw(200, body, "gzip, gzip, gzip"))
    with pytest.raises(MalformedResponseError, match="compressed 3 times over"):
        await _adapter("openai").chat(_request())


# --- Broken compressed bodies --------------------------------------------------------------


async def test_a_corrupt_gzip_answer_is_a_malformed_response_that_names_the_coding(serve):
    body = bytearray(gzip_body(ANSWER * 20))
    body[30:40] = b"\xff" * 10
    serve(_raw(200, bytes(body), "gzip"))
    with pytest.raises(MalformedResponseError, match="gzip body that does not decompress"):
        await _adapter("openai").chat(_request())


async def test_a_little_padding_after_a_gzip_body_is_ignored(serve):
    serve(_raw(200, gzip_body(ANSWER) + b"\0" * 16, "gzip"))
    assert (await _adapter("openai").chat(_request())).text == "Hello there"


async def test_endless_data_after_the_end_of_a_gzip_body_is_refused(serve):
    # httpx keeps every byte that follows the end inside zlib (unused_data), without a bound.
    serve(_raw(200, gzip_body(ANSWER) + b"x" * (8 * 1024 * 1024), "gzip"))
    with pytest.raises(MalformedResponseError, match="more data after the end of its gzip body"):
        await _adapter("openai").chat(_request())


def test_the_zlib_header_check_follows_rfc_1950():
    assert content_coding._is_zlib_header(_deflate(b"x", wbits=zlib.MAX_WBITS))
    assert content_coding._is_zlib_header(_deflate(b"x", wbits=9))
    assert not content_coding._is_zlib_header(b"\x78\x00")  # right method, wrong check bits
    assert not content_coding._is_zlib_header(b"\x1f\x8b")  # a gzip header


def test_no_code_reads_a_response_body_around_the_bounded_reader():
    # httpx's own readers inflate a whole network read at once, past every cap.
    package = Path(content_coding.__file__).resolve().parents[1]
    unbounded = re.compile(r"\.(aiter_bytes|aiter_text|aiter_lines|aread|iter_bytes|iter_text|iter_lines)\(")
    offenders = [
        f"{path.relative_to(package.parent)}:{number}"
        for path in sorted(package.rglob("*.py"))
        if path.name != "content_coding.py"
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if unbounded.search(line)
    ]
    assert offenders == []

"""Reading response bodies within bounds (no Django here).

Requests are always sent with ``stream=True``, so no body is read before it is checked. Error
bodies are read up to :data:`MAX_ERROR_BODY_BYTES` (:func:`read_body_capped`); a non-streamed
2xx answer up to :data:`MAX_RESPONSE_BODY_BYTES` (:func:`read_response`: a larger one is a
:class:`MalformedResponseError`). The caps count decoded bytes: a body is read only through
:func:`~.content_coding.aiter_body` (never ``aiter_bytes``, which inflates a whole network read
at once), so a compressed body is inflated at most one 64 KiB piece past its cap.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

import httpx

from .content_coding import aiter_body
from .error_mapping import exception_from_transport_error
from .errors import MalformedResponseError
from .safejson import UnsafeJSONError
from .safejson import loads as json_loads

# Error bodies are read into memory to build a message; a hostile or broken server must not
# be able to make us buffer an unbounded body.
MAX_ERROR_BODY_BYTES = 256 * 1024
# A successful non-streamed answer is read whole, but never past this: generous enough for
# base64 images and synthesized audio, small enough that a hostile server cannot exhaust a
# worker's memory. Read while it arrives (requests are sent with ``stream=True``).
MAX_RESPONSE_BODY_BYTES = 64 * 1024 * 1024


async def read_body_capped(response: httpx.Response, *, limit: int = MAX_ERROR_BODY_BYTES) -> bytes:
    """Read at most ``limit`` bytes of a streamed response (decoded; about one network chunk or
    one decompression step more is pulled, never the rest), then close it. For error bodies: a
    partial body is still useful."""
    chunks: list[bytes] = []
    size = 0
    byte_iterator: AsyncIterator[bytes] | None = None
    try:
        byte_iterator = aiter_body(response)
        async for chunk in byte_iterator:
            if size + len(chunk) >= limit:
                chunks.append(chunk[: limit - size])
                break
            chunks.append(chunk)
            size += len(chunk)
    except (httpx.HTTPError, MalformedResponseError):
        pass  # a partial (or unreadable) error body is still useful; the status decides the error class
    finally:
        if byte_iterator is not None:
            await byte_iterator.aclose()  # type: ignore[attr-defined]
        await response.aclose()
    return b"".join(chunks)


# Headers that describe the body as sent; the copy :func:`read_response` returns holds it decoded.
_BODY_FRAMING = frozenset({"content-encoding", "content-length", "transfer-encoding"})


async def read_response(
    response: httpx.Response,
    *,
    provider: str | None,
    secrets: Iterable[str | None] = (),
    media: bool = False,
) -> httpx.Response:
    """The streamed 2xx ``response`` read whole, refusing a body over
    :data:`MAX_RESPONSE_BODY_BYTES` as soon as it gets there; returned read and closed."""
    limit = MAX_RESPONSE_BODY_BYTES
    chunks: list[bytes] = []
    size = 0
    byte_iterator: AsyncIterator[bytes] | None = None
    try:
        byte_iterator = aiter_body(response, provider=provider)
        async for chunk in byte_iterator:
            size += len(chunk)
            if size > limit:
                raise MalformedResponseError(
                    f"The provider's answer is larger than {limit // (1024 * 1024)} MB, the most "
                    "accepted; it was not read.",
                    provider=provider,
                )
            chunks.append(chunk)
    except httpx.HTTPError as err:
        raise exception_from_transport_error(err, provider=provider, secrets=secrets, media=media) from err
    finally:
        if byte_iterator is not None:
            await byte_iterator.aclose()  # type: ignore[attr-defined]
        await response.aclose()
    # The bytes are already decoded, so the copy must not claim a content encoding.
    headers = [(name, value) for name, value in response.headers.multi_items() if name.lower() not in _BODY_FRAMING]
    return httpx.Response(
        response.status_code, headers=headers, content=b"".join(chunks), request=response.request,
        extensions=response.extensions,
    )


def json_object(response: httpx.Response, *, provider: str | None) -> dict[str, Any]:
    """The response body as a JSON object, or :class:`MalformedResponseError`."""
    try:
        payload = json_loads(response.content)
    except UnsafeJSONError as err:
        raise MalformedResponseError(f"The provider's answer is unusable JSON: {err}.", provider=provider) from err
    if not isinstance(payload, dict):
        raise MalformedResponseError("The provider's answer is not a JSON object.", provider=provider)
    return payload

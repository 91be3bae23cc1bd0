"""The floor for ``benchmarks/gateway.py``: an OpenAI-compatible pass-through with nothing but
uvicorn and httpx (no Django, no auth, no database, no ledger), served as
``uvicorn benchmarks.gateway_floor:app``.

It forwards ``POST /v1/chat/completions`` to ``FLOOR_UPSTREAM`` with the upstream key and
relays the answer (streamed bytes as they come). What a real gateway adds above this is what
its own work costs; what this adds over a direct call is the price of one more HTTP hop in
Python on this machine.
"""

from __future__ import annotations

import os

import httpx

UPSTREAM = os.environ.get("FLOOR_UPSTREAM", "")
UPSTREAM_KEY = os.environ.get("FLOOR_UPSTREAM_KEY", "")
# The request body is read whole before it is forwarded; a benchmark body is tiny.
MAX_BODY = 1 << 20
_client: httpx.AsyncClient | None = None


async def _read_body(receive) -> bytes | None:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if len(body) > MAX_BODY:
            return None
        if not message.get("more_body"):
            return body


async def _answer(send, status: int, body: bytes, content_type: bytes = b"application/json") -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", content_type)]})
    await send({"type": "http.response.body", "body": body})


async def app(scope, receive, send) -> None:
    global _client
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["method"] != "POST" or scope["path"] != "/v1/chat/completions":
        await _answer(send, 404, b'{"error": {"message": "not found"}}')
        return
    body = await _read_body(receive)
    if body is None:
        await _answer(send, 413, b'{"error": {"message": "request body too large"}}')
        return
    if _client is None:
        _client = httpx.AsyncClient(timeout=60)
    headers = {"Authorization": f"Bearer {UPSTREAM_KEY}", "Content-Type": "application/json"}
    request = _client.build_request("POST", f"{UPSTREAM}/chat/completions", content=body, headers=headers)
    response = await _client.send(request, stream=True)
    try:
        content_type = response.headers.get("content-type", "application/json").encode("latin-1")
        await send({
            "type": "http.response.start",
            "status": response.status_code,
            "headers": [(b"content-type", content_type)],
        })
        async for chunk in response.aiter_raw():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    finally:
        await response.aclose()

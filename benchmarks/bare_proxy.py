"""The floor for ``make bench-streams``: the same streamed chat with nothing but uvicorn and
httpx (no Django, no unified service, no database), run as ``--target bare``.

It reads the fake provider's OpenAI stream with one shared ``httpx.AsyncClient`` (over the
console's aiohttp transport, so its pool costs the same) and writes the same ``token``
and ``done`` events the chat playground writes. What the console costs above this is what
Django, the service and the ledger cost; what this costs is the floor of the stack itself.
"""

from __future__ import annotations

import json
import os

import httpx

from aiadmin.adapters.aiohttp_transport import AiohttpTransport
from aiadmin.adapters.urlguard import request_policy

UPSTREAM = os.environ.get("BARE_UPSTREAM", "")
# The fake provider listens on loopback, which the URL guard allows only when asked to.
PRIVATE = request_policy(allow_private_network=True)
MODEL = os.environ.get("BARE_MODEL", "")
_client: httpx.AsyncClient | None = None


def _event(name: str, data: dict) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


async def app(scope, receive, send) -> None:
    global _client
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if _client is None:
        _client = httpx.AsyncClient(transport=AiohttpTransport(max_connections=4096, keepalive_expiry=15.0), timeout=60)
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
    body = {"model": MODEL, "stream": True, "messages": [{"role": "user", "content": "Stream, please."}]}
    headers = {"Authorization": "Bearer test-key"}
    async with _client.stream(
        "POST", f"{UPSTREAM}/chat/completions", json=body, headers=headers, extensions=PRIVATE
    ) as response:
        async for line in response.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            for choice in json.loads(line[6:]).get("choices", []):
                if text := (choice.get("delta") or {}).get("content"):
                    await send({"type": "http.response.body", "body": _event("token", {"text": text}), "more_body": True})
    await send({"type": "http.response.body", "body": _event("done", {}), "more_body": False})

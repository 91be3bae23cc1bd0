"""The floor of ``make bench-streams``: a streamed chat pass-through with nothing but aiohttp
(server and client, on uvloop). No Django, no auth, no database, no ledger.

``POST /v1/chat/completions`` is forwarded to ``FLOOR_UPSTREAM`` (the fake provider's OpenAI
API) with the upstream key over one shared ``aiohttp.ClientSession``; the upstream's SSE
stream is read line by line and each ``data:`` chunk is written on as its own event, so the
answer has the shape of the HTTP API's (and LiteLLM's) stream and the benchmark reads all
three alike. What a real gateway costs above this is its own work; this is the price of an
asyncio HTTP hop in Python on the machine.

Run: ``python -m benchmarks.aiohttp_floor --port 8080`` (``FLOOR_UPSTREAM`` and
``FLOOR_UPSTREAM_KEY`` in the environment). Loopback only.
"""

from __future__ import annotations

import argparse
import os

import aiohttp
import uvloop
from aiohttp import web

UPSTREAM = os.environ.get("FLOOR_UPSTREAM", "")
UPSTREAM_KEY = os.environ.get("FLOOR_UPSTREAM_KEY", "")
MAX_BODY = 1 << 20  # a chat request is tiny; anything larger is refused (413)
MAX_LINE = 1 << 16  # one SSE line from upstream; longer ones end the stream
SESSION = web.AppKey("session", aiohttp.ClientSession)


async def _session(app: web.Application):
    # One pool for every stream, no cap below the benchmark's largest level.
    connector = aiohttp.TCPConnector(limit=4096, limit_per_host=0, keepalive_timeout=15)
    timeout = aiohttp.ClientTimeout(total=600, sock_connect=10, sock_read=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=False) as session:
        app[SESSION] = session
        yield


async def chat_completions(request: web.Request) -> web.StreamResponse:
    body = await request.read()
    headers = {"Authorization": f"Bearer {UPSTREAM_KEY}", "Content-Type": "application/json"}
    async with request.app[SESSION].post(f"{UPSTREAM}/chat/completions", data=body, headers=headers) as upstream:
        if upstream.status != 200:
            text = await upstream.content.read(MAX_BODY)
            return web.Response(status=upstream.status, body=text, content_type="application/json")
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        while line := await upstream.content.readuntil(b"\n"):
            if len(line) > MAX_LINE:
                break
            if line.startswith(b"data:"):
                await response.write(line.rstrip(b"\r\n") + b"\n\n")
        await response.write_eof()
        return response


def make_app() -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)
    app.cleanup_ctx.append(_session)
    app.router.add_post("/v1/chat/completions", chat_completions)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    web.run_app(make_app(), host=args.host, port=args.port, backlog=4096, access_log=None, print=None,
                loop=uvloop.new_event_loop())


if __name__ == "__main__":
    main()

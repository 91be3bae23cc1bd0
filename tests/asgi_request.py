"""One GET through an ASGI application, in-process, as a server would drive it (no socket).
Shared by the handler's tests and ``make bench-console``."""

from __future__ import annotations

import asyncio


async def asgi_get(application, path: str, *, host: str = "testserver", headers=()) -> int:
    """The response's status, once its whole body has been sent."""
    status, _ = await asgi_request(application, path, host=host, headers=headers)
    return status


async def asgi_request(application, path: str, *, host: str = "testserver", headers=()) -> tuple[int, dict[str, str]]:
    """The response's status and headers (lowercase names), once its whole body has been sent."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", host.encode()), *headers], "server": (host, 80), "client": ("127.0.0.1", 50000),
    }
    start: dict = {}
    request_sent = False
    finished = asyncio.Event()

    async def receive():
        nonlocal request_sent
        if not request_sent:
            request_sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        if message["type"] == "http.response.start":
            start.update(message)
        elif not message.get("more_body"):
            finished.set()

    await application(scope, receive, send)
    return start.get("status", 0), {name.decode().lower(): value.decode() for name, value in start.get("headers", ())}

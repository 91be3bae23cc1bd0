"""Django's ASGI handler with its sync work on a fixed pool of long-lived threads, and the ASGI
lifespan protocol (startup checks, a shutdown that loses nothing it can keep).

**Threads.** Django's own handler gives every request a new thread for its sync work
(sessions, the user, ORM calls, sync middleware and views). A new thread means a new database
connection, opened and closed for each request: on SQLite that is most of what a streamed chat
costs the worker before its first token, and on PostgreSQL a connect per request. Here each
request is bound to one thread of a small pool, for the whole request, as thread-sensitive
code expects; the threads live as long as the process, so with ``CONN_MAX_AGE`` their
connections are reused. The cost: at most ``AIADMIN["ASGI_SYNC_THREADS"]`` requests run sync
code at the same moment. The console's views are async and its sync work is short ORM calls,
so a few threads are plenty; a host project with slow sync views can raise the number.

**Lifespan.** Django's handler refuses the ``lifespan`` scope; this one serves it.

* Startup runs Django's system checks (not the deploy ones) and refuses to start on an error
  (a malformed encryption key, missing wiring): the server is told ``lifespan.startup.failed``
  with the messages, logs them and exits, instead of serving a broken configuration.
* Shutdown (SIGTERM; uvicorn sends it after its ``--timeout-graceful-shutdown``) ends every
  request still in flight the way a client disconnect does, so a stream that is cut writes
  its ledger row as ``cancelled``; waits up to :data:`SHUTDOWN_DRAIN_SECONDS` for them; flushes
  the usage ledger (:func:`aiadmin.unified.ledger.ledger_flush`, bounded by its retries) and
  closes the shared HTTP clients.

When uvicorn's graceful timeout runs out it cancels the request's task, but Django's handler
does not pass that on to the task running the view (it only cancels the view on a client
disconnect), so the view would run on unnoticed until the process ended, and its row be lost.
The handler therefore notes each request's view and disconnect-listener tasks and cancels
them itself. A hard kill (SIGKILL) skips all of this; what it can lose is bounded and written
down in :mod:`aiadmin.unified.ledger`.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import logging
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core import checks
from django.core.handlers.asgi import ASGIHandler as DjangoASGIHandler

from aiadmin.conf import aiadmin_settings

logger = logging.getLogger(__name__)

SHUTDOWN_DRAIN_SECONDS = 3.0  # how long cut requests get to finish their cleanup


class _InFlight:
    """One HTTP request's tasks, as Django's handler creates them."""

    __slots__ = ("view", "listener", "cancelled")

    def __init__(self) -> None:
        self.view: asyncio.Task | None = None
        self.listener: asyncio.Task | None = None
        self.cancelled = False

    def cancel(self) -> None:
        """End the request as a client disconnect would: the view sees ``CancelledError``
        (once: a second cancel would cut the view's own cleanup short)."""
        if self.cancelled:
            return
        self.cancelled = True
        for task in (self.view, self.listener):
            if task is not None and not task.done():
                task.cancel()

    def running(self) -> bool:
        return self.view is not None and not self.view.done()


_request: contextvars.ContextVar[_InFlight | None] = contextvars.ContextVar("aiadmin_request", default=None)


class StartupError(Exception):
    """Startup found a problem the server must not run with."""


def startup_problems() -> list[str]:
    """System check errors (deploy checks excluded, silenced ones skipped), as messages."""
    return [
        f"{message.id}: {message.msg}" + (f" HINT: {message.hint}" if message.hint else "")
        for message in checks.run_checks(include_deployment_checks=False)
        if message.level >= checks.ERROR and not message.is_silenced()
    ]


class ASGIHandler(DjangoASGIHandler):
    def __init__(self) -> None:
        super().__init__()
        size = aiadmin_settings.ASGI_SYNC_THREADS
        self.executors = [
            ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"django-sync-{index}") for index in range(size)
        ]
        self._next_executor = itertools.cycle(self.executors).__next__
        self.in_flight: set[_InFlight] = set()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
            return
        if scope["type"] != "http":
            # As Django's handler: websocket scopes are not served.
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        record = _InFlight()
        self.in_flight.add(record)
        token = _request.set(record)  # copied into the tasks Django's handler creates
        try:
            async with ThreadSensitiveContext(executor=self._next_executor()):
                await self.handle(scope, receive, send)
        except asyncio.CancelledError:
            # The server gave up on this request (graceful shutdown timed out).
            record.cancel()
            raise
        finally:
            _request.reset(token)
            if record.running():  # cancelled just now: tracked until its cleanup is done
                record.view.add_done_callback(lambda _: self.in_flight.discard(record))
            else:
                self.in_flight.discard(record)

    async def run_get_response(self, request):
        record = _request.get()
        if record is not None:
            record.view = asyncio.current_task()
        return await super().run_get_response(request)

    async def listen_for_disconnect(self, receive):
        record = _request.get()
        if record is not None:
            record.listener = asyncio.current_task()
        return await super().listen_for_disconnect(receive)

    # --- lifespan -------------------------------------------------------------------------

    async def lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as err:
                    # Reported, not raised: under `--lifespan auto` uvicorn would take an
                    # exception for "lifespan unsupported" and serve anyway.
                    logger.exception("aiadmin did not start")
                    await send({"type": "lifespan.startup.failed", "message": f"aiadmin did not start: {err}"})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    await self.shutdown()
                except Exception as err:
                    logger.exception("aiadmin did not shut down cleanly")
                    await send({"type": "lifespan.shutdown.failed", "message": str(err)})
                    return
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def startup(self) -> None:
        problems = await sync_to_async(startup_problems, thread_sensitive=False)()
        if problems:
            raise StartupError("; ".join(problems))

    async def shutdown(self) -> None:
        from aiadmin.adapters.shared_client import aclose_clients
        from aiadmin.unified.ledger import ledger_flush

        cut = [record for record in self.in_flight if record.running()]
        for record in cut:
            record.cancel()
        views = [record.view for record in cut]
        if views:
            _, unfinished = await asyncio.wait(views, timeout=SHUTDOWN_DRAIN_SECONDS)
            logger.warning(
                "Shutdown ended %d request(s) still in flight%s", len(views),
                f"; {len(unfinished)} did not finish within {SHUTDOWN_DRAIN_SECONDS:g} s" if unfinished else "",
            )
        await ledger_flush()
        await aclose_clients()
        for executor in self.executors:
            executor.shutdown(wait=False)

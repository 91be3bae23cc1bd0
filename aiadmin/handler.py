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
While ``request_started`` has only Django's own receivers (closing a pool thread's old
connections, which ``request_finished`` already does as each request on that thread ends), a
request skips the extra trip to its thread that sending it would cost.

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
from django import db
from django.conf import settings
from django.core import checks, signals
from django.core.handlers.asgi import get_script_prefix as scope_script_prefix
from django.core.exceptions import MiddlewareNotUsed, RequestAborted
from django.core.handlers.asgi import ASGIHandler as DjangoASGIHandler
from django.core.handlers.exception import convert_exception_to_response
from django.urls import NoReverseMatch, get_script_prefix, reverse, set_script_prefix
from django.urls.base import set_urlconf
from django.utils.log import log_response
from django.utils.module_loading import import_string

from aiadmin.conf import aiadmin_settings

logger = logging.getLogger(__name__)

SHUTDOWN_DRAIN_SECONDS = 3.0  # how long cut requests get to finish their cleanup

# Middleware that only serves browsers holding a session (cookies, CSRF, the user, messages,
# framing and content policies for pages, htmx): the HTTP API's requests (a bearer token,
# JSON in and out) skip it. Matched by class, so subclasses (aiadmin.middleware's) count too;
# anything else in MIDDLEWARE (security headers, host checks, a host's own) runs for the API.
BROWSER_ONLY_MIDDLEWARE = (
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
)
_UNRESOLVED = object()


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


def _request_started_is_djangos_own(sender) -> bool:
    """Whether request_started's receivers are only Django's own (a host's may need the
    thread: then requests send it as Django does)."""
    try:
        sync_receivers, async_receivers = signals.request_started._live_receivers(sender)
    except Exception:  # a Django whose signal internals differ: take the safe road
        return False
    return not async_receivers and set(sync_receivers) <= {db.reset_queries, db.close_old_connections}


def _importable(path: str):
    try:
        return import_string(path)
    except ImportError:  # an optional package (django-csp, django-htmx) the host does not have
        return None


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
        self._api_prefix: object = _UNRESOLVED

    # --- the HTTP API's lane -----------------------------------------------------------------

    def load_middleware(self, is_async=False):
        super().load_middleware(is_async)
        self._api_chain = self._api_middleware_chain() if is_async else None

    def _api_middleware_chain(self):
        """The request/response chain of MIDDLEWARE without the browser-only middleware, built
        as Django builds its own (view and exception middleware stay the full stack's: the
        API's views are CSRF-exempt, so CSRF's process_view passes them on the event loop)."""
        browser_only = tuple(_importable(path) for path in BROWSER_ONLY_MIDDLEWARE)
        handler = convert_exception_to_response(self._get_response_async)
        handler_is_async = True
        for path in reversed(settings.MIDDLEWARE):
            middleware = import_string(path)
            if isinstance(middleware, type) and any(base and issubclass(middleware, base) for base in browser_only):
                continue
            middleware_is_async = getattr(middleware, "async_capable", False)
            adapted = self.adapt_method_mode(middleware_is_async, handler, handler_is_async, name=f"middleware {path}")
            try:
                instance = middleware(adapted)
            except MiddlewareNotUsed:
                continue
            handler = convert_exception_to_response(instance)
            handler_is_async = middleware_is_async
        return self.adapt_method_mode(True, handler, handler_is_async)

    def api_prefix(self) -> str | None:
        """The path under which the HTTP API is mounted (``/v1/``), None when it is not."""
        if self._api_prefix is _UNRESOLVED:
            try:
                models = reverse("aiadmin_api:models")
            except (NoReverseMatch, ImportError):
                self._api_prefix = None
            else:
                self._api_prefix = "/" + models[len(get_script_prefix()) :].removesuffix("models")
        return self._api_prefix

    async def handle(self, scope, receive, send):
        if not _request_started_is_djangos_own(self.__class__):
            return await super().handle(scope, receive, send)
        # Django's handle() without the trip to the sync thread for request_started (the
        # console's requests and the HTTP API's alike), whose only receivers are Django's own
        # (checked above): resetting the query log (DEBUG) and closing old connections, both of
        # which act on the thread that runs them. This request's sync work runs on one of the long-lived pool threads,
        # whose connections are checked when each request there ends (request_finished, still
        # sent below), so the start-of-request check only repeated that one.
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(scope_script_prefix(scope))
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            body_file.close()
            await self.send_response(error_response, send)
            await sync_to_async(error_response.close)()
            return

        async def process_request(request, send):
            response = await self.run_get_response(request)
            try:
                await self.send_response(response, send)
            except asyncio.CancelledError:
                pass  # the client went away during send_response
            return response

        tasks = [
            asyncio.create_task(self.listen_for_disconnect(receive)),
            asyncio.create_task(process_request(request, send)),
        ]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if task.done():
                try:
                    task.result()
                except RequestAborted:
                    pass
                except AssertionError:
                    body_file.close()
                    raise
            else:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        try:
            response = tasks[1].result()
        except asyncio.CancelledError:
            await signals.request_finished.asend(sender=self.__class__)
        else:
            await sync_to_async(response.close)()
        body_file.close()

    async def get_response_async(self, request):
        prefix = self.api_prefix()
        if self._api_chain is None or prefix is None or not request.path_info.startswith(prefix):
            return await super().get_response_async(request)
        # Django's get_response_async, on the API's chain.
        set_urlconf(settings.ROOT_URLCONF)
        response = await self._api_chain(request)
        response._resource_closers.append(request.close)
        if response.status_code >= 400:
            await sync_to_async(log_response, thread_sensitive=False)(
                "%s: %s", response.reason_phrase, request.path, response=response, request=request
            )
        return response

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

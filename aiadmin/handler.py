"""Django's ASGI handler with its sync work on a fixed pool of long-lived threads.

Django's own handler gives every request a new thread for its sync work (sessions, the user,
ORM calls, sync middleware and views). A new thread means a new database connection, opened
and closed for each request: on SQLite that is most of what a streamed chat costs the worker
before its first token, and on PostgreSQL a connect per request. Here each request is bound
to one thread of a small pool, for the whole request, as thread-sensitive code expects; the
threads live as long as the process, so with ``CONN_MAX_AGE`` their connections are reused.

The cost: at most ``AIADMIN_ASGI_SYNC_THREADS`` requests run sync code at the same moment.
The console's views are async and its sync work is short ORM calls, so a few threads are
plenty; a host project with slow sync views can raise the number.
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler as DjangoASGIHandler

DEFAULT_SYNC_THREADS = 4  # when the setting is absent (a host project's own settings)


class ASGIHandler(DjangoASGIHandler):
    def __init__(self) -> None:
        super().__init__()
        size = max(1, int(getattr(settings, "AIADMIN_ASGI_SYNC_THREADS", DEFAULT_SYNC_THREADS)))
        self.executors = [
            ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"django-sync-{index}") for index in range(size)
        ]
        self._next_executor = itertools.cycle(self.executors).__next__

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            # As Django's handler: lifespan and websocket scopes are not served.
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        async with ThreadSensitiveContext(executor=self._next_executor()):
            await self.handle(scope, receive, send)

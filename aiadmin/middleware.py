"""Django's built-in middleware, without a thread hop per hook under ASGI.

``MiddlewareMixin`` runs every ``process_request`` / ``process_response`` of a middleware
through ``sync_to_async(thread_sensitive=True)``: under ASGI that is one trip to Django's
single shared worker thread per hook, about fifteen per request, and every request queues
for that one thread. The hooks wrapped here do no I/O (they set headers and lazy objects), so
they run on the event loop; hooks that may touch the database (saving a session, storing
messages) still go to the thread, and only when they have work to do. Sync serving (WSGI,
the test client's sync path) is unchanged.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware as BaseAuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware as BaseMessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware as BaseSessionMiddleware
from django.middleware.clickjacking import XFrameOptionsMiddleware as BaseXFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware as BaseCommonMiddleware
from django.middleware.csrf import CsrfViewMiddleware as BaseCsrfViewMiddleware
from django.middleware.security import SecurityMiddleware as BaseSecurityMiddleware


class InlineHooksMixin:
    """Run this middleware's request and response hooks on the event loop (no I/O in them)."""

    async def __acall__(self, request):
        response = None
        if hasattr(self, "process_request"):
            response = self.process_request(request)
        response = response or await self.get_response(request)
        if hasattr(self, "process_response"):
            response = self.process_response(request, response)
        return response


class SecurityMiddleware(InlineHooksMixin, BaseSecurityMiddleware):
    pass


class CommonMiddleware(InlineHooksMixin, BaseCommonMiddleware):
    pass


class CsrfViewMiddleware(InlineHooksMixin, BaseCsrfViewMiddleware):
    # process_request reads a cookie, process_response sets one; process_view (the check
    # itself) is called by Django's handler, in the thread as before.
    pass


class AuthenticationMiddleware(InlineHooksMixin, BaseAuthenticationMiddleware):
    # Only installs the lazy request.user / request.auser.
    pass


class XFrameOptionsMiddleware(InlineHooksMixin, BaseXFrameOptionsMiddleware):
    pass


class CSPMiddleware(InlineHooksMixin, BaseCSPMiddleware):
    pass


class SessionMiddleware(BaseSessionMiddleware):
    async def __acall__(self, request):
        self.process_request(request)  # a lazy session store: nothing is read yet
        response = await self.get_response(request)
        session = request.session
        if session.modified or settings.SESSION_SAVE_EVERY_REQUEST:
            return await sync_to_async(self.process_response, thread_sensitive=True)(request, response)
        return self.process_response(request, response)  # headers only: no save


class MessageMiddleware(BaseMessageMiddleware):
    async def __acall__(self, request):
        self.process_request(request)  # a lazy message store
        response = await self.get_response(request)
        storage = request._messages
        if storage.used or storage.added_new:
            # Storing may read or write the session: in the thread.
            return await sync_to_async(self.process_response, thread_sensitive=True)(request, response)
        return response

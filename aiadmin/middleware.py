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


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


# Bodies Django parses into request.POST (the CSRF check reads its csrfmiddlewaretoken field):
# a multipart upload may be tens of megabytes spooled to disk.
FORM_CONTENT_TYPES = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})


class CsrfViewMiddleware(InlineHooksMixin, BaseCsrfViewMiddleware):
    # process_request reads a cookie, process_response sets one. process_view (the check
    # itself) may parse the posted form and read the session: then it goes to the thread. A
    # safe method or a csrf_exempt view (the HTTP API) is answered on the event loop, as
    # Django's own process_view answers them, without I/O; so is a check that reads only
    # headers and cookies (the token in the cookie, not the session, and a body that is no
    # form, as the playgrounds' JSON posts with X-CSRFToken).
    def __init__(self, get_response):
        super().__init__(get_response)
        if self.async_mode:
            checked_in_thread = sync_to_async(super().process_view, thread_sensitive=True)

            async def process_view(request, callback, callback_args, callback_kwargs):
                if (
                    getattr(request, "csrf_processing_done", False)
                    or getattr(callback, "csrf_exempt", False)
                    or request.method in SAFE_METHODS
                    or not (settings.CSRF_USE_SESSIONS or request.content_type in FORM_CONTENT_TYPES)
                ):
                    return super(CsrfViewMiddleware, self).process_view(request, callback, callback_args, callback_kwargs)
                return await checked_in_thread(request, callback, callback_args, callback_kwargs)

            self.process_view = process_view


class AuthenticationMiddleware(InlineHooksMixin, BaseAuthenticationMiddleware):
    # Only installs the lazy request.user / request.auser.
    pass


class XFrameOptionsMiddleware(InlineHooksMixin, BaseXFrameOptionsMiddleware):
    pass


class CSPMiddleware(InlineHooksMixin, BaseCSPMiddleware):
    def process_response(self, request, response):
        # django-csp builds both policies before it looks at the exemptions: a response
        # exempt from both (the HTTP API's JSON and event streams, which no browser renders
        # as a page) skips the work.
        if getattr(response, "_csp_exempt", False) and getattr(response, "_csp_exempt_ro", False):
            return response
        return super().process_response(request, response)


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

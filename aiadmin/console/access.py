"""Permission checks for console views, in the view layer (never only in templates).

``console_view`` works for sync and async views: it requires an active staff user (anonymous
users go to the admin login), applies CSRF protection and ``never_cache``, and with
``superuser=True`` answers 403 to everyone else, saying ``refusal`` (the 403 page shows it:
aiadmin's refusals are written for admins, see views/errors.py).
"""

from __future__ import annotations

import functools
import inspect

from asgiref.sync import sync_to_async
from django.contrib import admin
from django.contrib.auth import get_user
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django_htmx.http import HttpResponseClientRedirect


SUPERUSERS_ONLY = "Only superadmins can do this."


def _check(request, user, superuser: bool, refusal: str):
    if not (user.is_active and user.is_staff):
        return _to_login(request)
    if superuser and not user.is_superuser:
        raise PermissionDenied(refusal)
    request.user = user
    return None


def _to_login(request):
    htmx = getattr(request, "htmx", None)
    if htmx:
        # A fragment request (the session ended while the page was open): a redirect would put
        # the login page inside a panel. Send the whole page there, and back to it afterwards.
        page = htmx.current_url_abs_path or reverse("aiadmin_console:cards")
        return HttpResponseClientRedirect(redirect_to_login(page, reverse("admin:login"))["Location"])
    return redirect_to_login(request.get_full_path(), reverse("admin:login"))


def console_view(view=None, *, superuser: bool = False, refusal: str = SUPERUSERS_ONLY):
    def decorate(view):
        if inspect.iscoroutinefunction(view):

            @functools.wraps(view)
            async def wrapper(request, *args, **kwargs):
                # The session and the user in one trip to the sync thread; request.auser()
                # makes two (each costs about 0.2 ms of CPU).
                refused = _check(request, await sync_to_async(get_user)(request), superuser, refusal)
                return refused or await view(request, *args, **kwargs)

        else:

            @functools.wraps(view)
            def wrapper(request, *args, **kwargs):
                refused = _check(request, request.user, superuser, refusal)
                return refused or view(request, *args, **kwargs)

        return never_cache(csrf_protect(wrapper))

    return decorate(view) if view is not None else decorate


def console_context(request, *, title: str, **extra) -> dict:
    """Unfold's page context (sidebar, branding) plus the page's own values."""
    return {**admin.site.each_context(request), "title": title, **extra}

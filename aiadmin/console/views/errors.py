"""The console's 403, 404 and 500 pages, for a project's URLconf (standalone/urls.py; a host
adds one line each, see the README):

    handler403 = "aiadmin.console.views.errors.permission_denied"
    handler404 = "aiadmin.console.views.errors.page_not_found"
    handler500 = "aiadmin.console.views.errors.server_error"

and in settings, for a refused form post (an expired session or page):

    CSRF_FAILURE_VIEW = "aiadmin.console.views.errors.csrf_failure"

Staff get the page inside the console layout (Unfold's sidebar) with a link back to the
provider cards; anyone else a simple page that links to the admin login. A 403 says who can do
what was refused. The 500 page never queries the database or the cache (they may be why it is
shown): it renders from a fixed context, and from a constant if even that fails."""

from __future__ import annotations

import logging

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.urls import reverse

from aiadmin.providers.admin import SuperuserWritesMixin

from ..access import console_context, console_view

logger = logging.getLogger(__name__)

GENERIC_REFUSAL = "Your account may not do this. A superadmin can, or can give you access."
NOT_FOUND = "There is nothing at this address: the provider or item may have been removed or renamed, or the link is mistyped."
CSRF_REFUSAL = "The page was open too long or your session changed, so the form was not sent. Reload the page and try again."
SERVER_ERROR = "Something went wrong on our side and was logged. Try again in a moment; if it keeps happening, tell your administrator."
# What an admin URL's action is, in words ("Only superadmins can add AI providers.").
_ADMIN_VERBS = {"add": "add", "change": "change", "delete": "delete"}
# The last resort of the 500 page: no template, no static files, no settings.
_PLAIN_500 = (
    "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Server error</title></head>"
    f"<body><h1>Server error</h1><p>{SERVER_ERROR}</p><p><a href=\"/admin/\">Back to the admin</a></p></body></html>"
)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, status=403, title="You cannot do this", sentence=refusal_reason(request, exception))


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # Http404's message is Django's ("No AIProvider matches the given query."), not for people.
    return _page(request, status=404, title="Page not found", sentence=NOT_FOUND)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    # Django's reason names cookies and referers; what the admin can do is reload.
    return _page(request, status=403, title="This form has expired", sentence=CSRF_REFUSAL)


def server_error(request: HttpRequest) -> HttpResponse:
    try:
        html = loader.get_template("aiadmin/console/errors/500.html").render(
            {
                "title": "Server error",
                "status": 500,
                "sentence": SERVER_ERROR,
                "back_url": _url("admin:index", "/admin/"),
                "back_label": "Back to the admin",
            }
        )
    except Exception:
        logger.exception("The 500 page could not be rendered; answering with plain HTML.")
        html = _PLAIN_500
    return HttpResponse(html, status=500)


def refusal_reason(request: HttpRequest, exception: Exception | None) -> str:
    """Who can do what was refused: aiadmin's own message when aiadmin raised the refusal (its
    messages are written for admins), else a sentence from the admin URL, else a generic one."""
    return _own_message(exception) or _admin_sentence(request) or GENERIC_REFUSAL


def _own_message(exception: Exception | None) -> str:
    if exception is None or len(exception.args) != 1 or not isinstance(exception.args[0], str):
        return ""
    traceback = exception.__traceback__
    if traceback is None:
        return ""
    while traceback.tb_next is not None:
        traceback = traceback.tb_next
    # Only where it was raised counts: Django's or a host's messages may say anything.
    raised_in = traceback.tb_frame.f_globals.get("__name__", "")
    message = exception.args[0].strip()
    return message if raised_in.startswith("aiadmin.") and 0 < len(message) <= 300 else ""


def _admin_sentence(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None or admin.site.name not in match.namespaces or not match.url_name:
        return ""
    for model, model_admin in admin.site._registry.items():
        prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
        verb = _ADMIN_VERBS.get(match.url_name.removeprefix(prefix)) if match.url_name.startswith(prefix) else None
        if verb and isinstance(model_admin, SuperuserWritesMixin):
            return f"Only superadmins can {verb} {model._meta.verbose_name_plural}."
    return ""


def _page(request: HttpRequest, *, status: int, title: str, sentence: str) -> HttpResponse:
    values = {"status": status, "title": title, "sentence": sentence}
    to_cards = {"back_url": _url("aiadmin_console:cards", "/admin/"), "back_label": "Back to the provider cards"}
    if getattr(request, "htmx", False):
        # A fragment request (a panel, a form): the message alone, never a page inside a panel
        # (console.js shows it after the form that asked).
        return HttpResponse(loader.render_to_string("aiadmin/console/errors/message.html", {**values, **to_cards}), status=status)
    staff = _is_staff(request)
    if staff:
        try:
            context = console_context(request, **values, **to_cards)
            return HttpResponse(loader.render_to_string("aiadmin/console/errors/console.html", context, request), status=status)
        except Exception:
            # The sidebar needs the database; without it the simple page still answers.
            logger.exception("The %s page could not be rendered in the console layout.", status)
    if staff:
        back = {"back_url": _url("admin:index", "/admin/"), "back_label": "Back to the admin"}
    else:
        back = {"back_url": _url("admin:login", "/admin/login/"), "back_label": "Log in to the admin"}
    context = {**values, **back}
    return HttpResponse(loader.render_to_string("aiadmin/console/errors/simple.html", context, request), status=status)


def _is_staff(request: HttpRequest) -> bool:
    try:
        user = request.user
        return bool(user.is_active and user.is_staff)
    except Exception:  # no auth middleware, or the session or user table unreachable
        return False


def _url(name: str, fallback: str) -> str:
    try:
        return reverse(name)
    except Exception:
        return fallback


@console_view
def console_not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Unknown console URLs: the 404 page whatever DEBUG says (Django shows its technical 404
    page instead of handler404 when DEBUG is on), after the usual staff check."""
    return page_not_found(request)

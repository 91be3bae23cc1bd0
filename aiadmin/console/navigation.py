"""aiadmin's sidebar groups for a host's ``UNFOLD["SIDEBAR"]["navigation"]``:

    UNFOLD = {"SIDEBAR": {"navigation": [*aiadmin_navigation(), ...the host's own groups]}}

Unfold shows only what its settings list, so a host that keeps its own sidebar adds these.

The console's items say which page is theirs (``active``): Unfold's default marks an item
active when its link is a prefix of the path, so "Provider cards" (/admin/console/) would be
lit on every console page."""

from __future__ import annotations

from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _


def _console_pages(*url_names: str):
    """Active on these console URL names only (and nowhere on an error page, which matches none)."""

    def active(request) -> bool:
        match = getattr(request, "resolver_match", None)
        return match is not None and "aiadmin_console" in match.app_names and match.url_name in url_names

    return active


def aiadmin_navigation() -> list[dict]:
    admin = "admin:aiadmin_providers_{}_changelist".format
    return [
        {
            "title": _("AI providers"),
            "separator": True,
            "items": [
                {
                    "title": _("Provider cards"),
                    "icon": "dashboard",
                    "link": reverse_lazy("aiadmin_console:cards"),
                    # A provider's keys and model browser are reached from its card.
                    "active": _console_pages("cards", "keys", "browser", "select"),
                },
                {"title": _("Providers"), "icon": "hub", "link": reverse_lazy(admin("aiprovider"))},
                {"title": _("Selected models"), "icon": "model_training", "link": reverse_lazy(admin("aimodel"))},
                {"title": _("My provider settings"), "icon": "key", "link": reverse_lazy(admin("adminprovidersettings"))},
                {"title": _("Monthly limits"), "icon": "speed", "link": reverse_lazy(admin("adminproviderlimit"))},
                {"title": _("Usage"), "icon": "monitoring", "link": reverse_lazy("aiadmin_console:usage"), "active": _console_pages("usage")},
                {"title": _("Usage log"), "icon": "receipt_long", "link": reverse_lazy(admin("airequestlog"))},
                {"title": _("API tokens"), "icon": "token", "link": reverse_lazy("aiadmin_console:tokens"), "active": _console_pages("tokens")},
            ],
        },
        {
            "title": _("Playgrounds"),
            "separator": True,
            "items": [
                {"title": _("Chat"), "icon": "chat", "link": reverse_lazy("aiadmin_console:chat"), "active": _console_pages("chat")},
                {"title": _("Content"), "icon": "article", "link": reverse_lazy("aiadmin_console:content"), "active": _console_pages("content")},
                {"title": _("Image"), "icon": "image", "link": reverse_lazy("aiadmin_console:image"), "active": _console_pages("image")},
                {"title": _("Audio"), "icon": "graphic_eq", "link": reverse_lazy("aiadmin_console:audio"), "active": _console_pages("audio")},
            ],
        },
    ]

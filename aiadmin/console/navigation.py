"""aiadmin's sidebar groups for a host's ``UNFOLD["SIDEBAR"]["navigation"]``:

    UNFOLD = {"SIDEBAR": {"navigation": [*aiadmin_navigation(), ...the host's own groups]}}

Unfold shows only what its settings list, so a host that keeps its own sidebar adds these."""

from __future__ import annotations

from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _


def aiadmin_navigation() -> list[dict]:
    admin = "admin:aiadmin_providers_{}_changelist".format
    return [
        {
            "title": _("AI providers"),
            "separator": True,
            "items": [
                {"title": _("Provider cards"), "icon": "dashboard", "link": reverse_lazy("aiadmin_console:cards")},
                {"title": _("Providers"), "icon": "hub", "link": reverse_lazy(admin("aiprovider"))},
                {"title": _("Selected models"), "icon": "model_training", "link": reverse_lazy(admin("aimodel"))},
                {"title": _("My provider settings"), "icon": "key", "link": reverse_lazy(admin("adminprovidersettings"))},
                {"title": _("Monthly limits"), "icon": "speed", "link": reverse_lazy(admin("adminproviderlimit"))},
                {"title": _("Usage"), "icon": "monitoring", "link": reverse_lazy("aiadmin_console:usage")},
                {"title": _("Usage log"), "icon": "receipt_long", "link": reverse_lazy(admin("airequestlog"))},
            ],
        },
        {
            "title": _("Playgrounds"),
            "separator": True,
            "items": [
                {"title": _("Chat"), "icon": "chat", "link": reverse_lazy("aiadmin_console:chat")},
                {"title": _("Content"), "icon": "article", "link": reverse_lazy("aiadmin_console:content")},
                {"title": _("Image"), "icon": "image", "link": reverse_lazy("aiadmin_console:image")},
                {"title": _("Audio"), "icon": "graphic_eq", "link": reverse_lazy("aiadmin_console:audio")},
            ],
        },
    ]

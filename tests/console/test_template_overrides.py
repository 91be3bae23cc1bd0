"""aiadmin's templates are namespaced (aiadmin/console/...), so a host overrides any of them the
Django way: a file of the same name in its own template directory wins over the app's."""

from __future__ import annotations

import copy

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_host_template_of_the_same_name_replaces_the_consoles(superuser_client, tmp_path):
    page = tmp_path / "aiadmin" / "console" / "chat.html"
    page.parent.mkdir(parents=True)
    page.write_text('{% extends "aiadmin/console/base.html" %}{% block console %}<p id="host-chat">The host\'s own chat page</p>{% endblock %}')
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [tmp_path]
    with override_settings(TEMPLATES=templates):
        html = superuser_client.get(reverse("aiadmin_console:chat")).content.decode()
    assert '<p id="host-chat">' in html
    # The rest of the console layout (the app's base template) is still there.
    assert "aiadmin/console.css" in html


def test_without_an_override_the_apps_own_template_renders(superuser_client):
    html = superuser_client.get(reverse("aiadmin_console:chat")).content.decode()
    assert 'data-testid="chat-playground"' in html and "host-chat" not in html

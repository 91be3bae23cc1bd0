"""Management commands used by the run command."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

pytestmark = pytest.mark.django_db


def test_ensure_superuser_creates_one_from_the_environment(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "boss")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-password-4711")
    out = StringIO()
    call_command("ensure_superuser", stdout=out)
    user = get_user_model().objects.get(username="boss")
    assert user.is_superuser and user.check_password("a-long-password-4711")
    assert "a-long-password-4711" not in out.getvalue()


def test_ensure_superuser_uses_the_user_models_login_field(monkeypatch, django_user_model):
    """A host's user model that signs in by email: DJANGO_SUPERUSER_EMAIL names the superuser
    and createsuperuser gets no ``username`` option (it would refuse one)."""
    from aiadmin.providers.management.commands import ensure_superuser

    monkeypatch.setattr(django_user_model, "USERNAME_FIELD", "email")
    monkeypatch.setattr(django_user_model, "REQUIRED_FIELDS", [])
    monkeypatch.delenv("DJANGO_SUPERUSER_USERNAME", raising=False)
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "boss@example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-password-4711")
    calls = []
    monkeypatch.setattr(ensure_superuser, "call_command", lambda *args, **kwargs: calls.append((args, kwargs)))
    call_command("ensure_superuser", stdout=StringIO())
    assert calls == [(("createsuperuser",), {"interactive": False, "verbosity": 0, "email": "boss@example.com"})]


def test_ensure_superuser_does_nothing_when_one_exists(monkeypatch, superuser):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "another")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-password-4711")
    out = StringIO()
    call_command("ensure_superuser", stdout=out)
    assert "exists already" in out.getvalue()
    assert not get_user_model().objects.filter(username="another").exists()


def test_ensure_superuser_without_terminal_or_environment_says_what_to_set(monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_USERNAME", raising=False)
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    with pytest.raises(CommandError, match="DJANGO_SUPERUSER_USERNAME"):
        call_command("ensure_superuser")

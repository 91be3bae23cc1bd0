"""The keys the log filter knows: every key stored or revealed in this process, bounded and
expiring, each found in every spelling a record may show it in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aiadmin import known_secrets as registry
from aiadmin.console.keys import PersonalKeyForm, SharedKeyForm
from aiadmin.known_secrets import (
    KNOWN_SECRET_SECONDS,
    MAX_KNOWN_SECRETS,
    known_secrets,
    redact_from_logs,
    redact_known_secrets,
)
from aiadmin.providers.models import AdminProviderSettings, AIProvider

KEY = "Zq9plain-custom-secret-77"


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    registry._known.clear()
    yield
    registry._known.clear()


@pytest.fixture
def provider(db) -> AIProvider:
    return AIProvider.objects.create(slug="p", name="P", api_base_url="https://api.example.com/v1")


def test_a_shared_key_typed_into_the_form_and_saved_is_known(provider):
    form = SharedKeyForm({"shared_api_key": KEY, "allow_personal_keys": "on"}, instance=provider)
    assert form.is_valid(), form.errors
    form.save()
    assert KEY in known_secrets()


def test_a_personal_key_typed_into_the_form_and_saved_is_known(provider, staff_user):
    form = PersonalKeyForm({"personal_api_key": KEY}, instance=AdminProviderSettings(admin=staff_user, provider=provider))
    form.current_user = staff_user
    assert form.is_valid(), form.errors
    form.save()
    assert KEY in known_secrets()


def test_a_stored_key_is_known_once_revealed(provider):
    AIProvider.objects.filter(pk=provider.pk).update(shared_api_key=KEY)  # encrypted by the field
    registry._known.clear()  # a worker that has not used it yet
    assert KEY not in known_secrets()
    assert AIProvider.objects.get(pk=provider.pk).reveal_secret("shared_api_key") == KEY
    assert KEY in known_secrets()


def test_the_bound_holds_and_the_least_recently_revealed_leaves_first():
    redact_from_logs(KEY)
    for number in range(MAX_KNOWN_SECRETS - 1):
        redact_from_logs(f"filler-secret-{number:06d}")
    redact_from_logs(KEY)  # revealed again: now the most recent
    redact_from_logs("one-more-secret-value")
    assert KEY in known_secrets() and "filler-secret-000000" not in known_secrets()
    assert len(registry._known._entries) == MAX_KNOWN_SECRETS
    assert redact_known_secrets(f"a {KEY} b one-more-secret-value") == "a [redacted] b [redacted]"


def test_a_key_not_revealed_for_the_expiry_time_is_forgotten(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(registry.time, "monotonic", lambda: now[0])
    redact_from_logs(KEY)
    redact_from_logs("another-secret-value")
    now[0] += KNOWN_SECRET_SECONDS / 2
    redact_from_logs("another-secret-value")  # revealed again: its time starts over
    now[0] += KNOWN_SECRET_SECONDS / 2 + 1
    assert redact_known_secrets(f"{KEY} another-secret-value") == f"{KEY} [redacted]"
    assert known_secrets() == {"another-secret-value"}


def test_values_too_short_to_be_keys_are_not_removed_from_every_record():
    redact_from_logs("ollama")
    redact_from_logs("  short  ")
    assert known_secrets() == frozenset()
    assert redact_known_secrets("ollama answered") == "ollama answered"


def test_keys_are_found_before_and_after_they_are_compiled_into_one_pattern():
    keys = [f"sk-proj-{number:04d}-secret-part" for number in range(100)]  # sharing prefixes
    for key in keys:
        redact_from_logs(key)
    pattern, uncompiled = registry._known.view
    assert pattern is not None and uncompiled  # both kinds are in use
    text = " ".join(f"<{key}>" for key in keys)
    assert redact_known_secrets(text) == " ".join("<[redacted]>" for _ in keys)


def test_a_key_that_contains_another_is_removed_whole():
    redact_from_logs("abcdefgh12")
    redact_from_logs("abcdefgh1234567")
    assert redact_known_secrets("x abcdefgh1234567 y abcdefgh12 z") == "x [redacted] y [redacted] z"
    for number in range(40):  # now compiled
        redact_from_logs(f"filler-secret-{number:06d}")
    assert not {"abcdefgh12", "abcdefgh1234567"} & set(registry._known.view[1])
    assert redact_known_secrets("x abcdefgh1234567 y abcdefgh12 z") == "x [redacted] y [redacted] z"


def test_a_very_long_key_compiles():
    long_key = "k" * 4096
    redact_from_logs(long_key)
    for number in range(40):
        redact_from_logs(f"filler-secret-{number:06d}")
    assert long_key not in registry._known.view[1]
    assert redact_known_secrets(f"[{long_key}]") == "[[redacted]]"


@pytest.mark.parametrize("spelling", ["repr", "bytes", "json", "url"])
def test_every_spelling_of_a_key_with_escapable_characters_is_known(spelling):
    key = "Zq9odd/key+with'quote\\back"
    redact_from_logs(key)
    shown = {
        "repr": repr(key),
        "bytes": repr(key.encode()),
        "json": '{"k": "Zq9odd/key+with\'quote\\\\back"}',
        "url": "Zq9odd%2Fkey%2Bwith%27quote%5Cback",
    }[spelling]
    assert "Zq9odd" not in redact_known_secrets(shown)


def test_keys_too_deeply_nested_for_one_pattern_are_still_all_found():
    keys = ["a" * length + "Z" for length in range(8, 8 + MAX_KNOWN_SECRETS)]  # each a prefix branch of the next
    for key in keys:
        redact_from_logs(key)
    pattern, one_by_one = registry._known.view
    assert pattern is None and len(one_by_one) == len(keys)
    assert redact_known_secrets(f"<{keys[0]}> <{keys[-1]}>") == "<[redacted]> <[redacted]>"

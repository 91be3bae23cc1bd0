"""aiadmin's settings: one AIADMIN dict, merged over defaults, read through aiadmin.conf. A
missing or wrong value is a system check message naming the key, never an AttributeError."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection
from django.test import override_settings

from aiadmin.conf import DEFAULTS, ENCRYPTION_KEYS_LINE, aiadmin_settings, check_aiadmin_settings
from aiadmin.providers import usage
from aiadmin.providers.checks import check_encryption_keys
from tests.aiadmin_overrides import aiadmin_override, aiadmin_set

ROOT = Path(__file__).resolve().parents[1]


def ids(messages) -> list[str]:
    return [message.id for message in messages]


@pytest.fixture
def without_aiadmin_setting():
    """A host project that has no AIADMIN setting at all."""
    with override_settings():
        del django_settings.AIADMIN
        aiadmin_settings.reload()  # deleting a setting sends no setting_changed
        yield
    aiadmin_settings.reload()


def test_a_host_without_the_setting_gets_every_default(without_aiadmin_setting):
    assert not hasattr(django_settings, "AIADMIN")
    assert aiadmin_settings.STREAM_MAX_CHARS == DEFAULTS["STREAM_MAX_CHARS"] == 500_000
    assert aiadmin_settings.ENCRYPTION_KEYS == ()
    assert aiadmin_settings.STORAGE == aiadmin_settings.CACHE == "default"
    assert aiadmin_settings.ADAPTERS == {}
    assert aiadmin_settings.TIME_ZONE == django_settings.TIME_ZONE
    assert aiadmin_settings.DERIVE_ENCRYPTION_KEY is django_settings.DEBUG
    assert aiadmin_settings.ASGI_SYNC_THREADS == (1 if connection.vendor == "sqlite" else 4)
    assert check_aiadmin_settings(None) == []


def test_the_host_dict_is_merged_over_the_defaults(settings):
    keys = list(settings.AIADMIN["ENCRYPTION_KEYS"])
    aiadmin_set(settings, STREAM_MAX_CHARS=1234)
    assert aiadmin_settings.STREAM_MAX_CHARS == 1234
    assert aiadmin_settings.STREAM_MAX_SECONDS == DEFAULTS["STREAM_MAX_SECONDS"]
    assert list(aiadmin_settings.ENCRYPTION_KEYS) == keys


def test_an_override_is_seen_at_once_and_undone_after():
    before = aiadmin_settings.MAX_UPLOAD_BYTES
    with aiadmin_override(MAX_UPLOAD_BYTES=7):
        assert aiadmin_settings.MAX_UPLOAD_BYTES == 7
    assert aiadmin_settings.MAX_UPLOAD_BYTES == before


def test_reads_after_the_first_are_plain_attributes():
    aiadmin_settings.reload()
    aiadmin_settings.ROUTING_CACHE_SECONDS  # noqa: B018
    assert vars(aiadmin_settings)["ROUTING_CACHE_SECONDS"] == 1.5
    assert vars(aiadmin_settings)["STREAM_MAX_CHARS"] == 500_000


def test_a_name_that_is_no_setting_is_an_attribute_error_naming_it():
    with pytest.raises(AttributeError, match="STREAM_MAX_CHAR"):
        aiadmin_settings.STREAM_MAX_CHAR  # noqa: B018


def test_unknown_keys_are_a_warning_naming_them(settings):
    aiadmin_set(settings, STREAM_MAX_CHAR=10, TIMEZONE="UTC")
    (warning,) = check_aiadmin_settings(None)
    assert warning.id == "aiadmin.W030"
    assert "STREAM_MAX_CHAR, TIMEZONE" in warning.msg


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [
        ("STREAM_MAX_CHARS", "1000", "whole number"),
        ("STREAM_MAX_CHARS", True, "whole number"),
        ("STREAM_MAX_SECONDS", 0, "above 0"),
        ("ENCRYPTION_KEYS", "a-key,another-key", "not a string"),
        ("DERIVE_ENCRYPTION_KEY", "yes", "True, False or None"),
        ("TIME_ZONE", "Mars/Olympus_Mons", "no known time zone"),
        ("STORAGE", "media", "not in STORAGES"),
        ("CACHE", "aiadmin", "not in CACHES"),
        ("HTTP_MAX_RETRIES", -1, "0 or more"),
        ("ADAPTERS", ["my.Adapter"], "dict"),
    ],
)
def test_a_wrong_value_is_an_error_naming_the_key_and_reading_it_says_so(settings, key, value, said):
    aiadmin_set(settings, **{key: value})
    errors = [message for message in check_aiadmin_settings(None)]
    assert ids(errors) == ["aiadmin.E031"]
    assert f'AIADMIN["{key}"]' in errors[0].msg and said in errors[0].msg
    with pytest.raises(ImproperlyConfigured, match=key):
        getattr(aiadmin_settings, key)
    assert aiadmin_settings.ROUTING_CACHE_SECONDS == 1.5  # the other keys still work


def test_encryption_keys_as_a_string_get_a_hint_showing_a_list(settings):
    aiadmin_set(settings, ENCRYPTION_KEYS="a-key")
    (error,) = check_aiadmin_settings(None)
    assert '.split(",")' in error.hint
    assert check_encryption_keys(None) == []  # not reported twice


def test_aiadmin_that_is_not_a_dict_is_an_error(settings):
    settings.AIADMIN = [("ENCRYPTION_KEYS", [])]
    assert ids(check_aiadmin_settings(None)) == ["aiadmin.E030"]
    assert aiadmin_settings.STREAM_MAX_CHARS == 500_000


def test_missing_keys_in_production_are_e001_with_the_line_to_add_not_an_exception():
    with override_settings(DEBUG=False, AIADMIN={}):
        messages = check_encryption_keys(None)
        assert ids(messages) == ["aiadmin.E001"]
        assert 'AIADMIN["ENCRYPTION_KEYS"]' in messages[0].msg
        assert messages[0].hint.endswith(ENCRYPTION_KEYS_LINE)
        with pytest.raises(SystemCheckError) as caught:
            call_command("check")
    report = str(caught.value)
    assert "aiadmin.E001" in report and ENCRYPTION_KEYS_LINE in report


def test_in_debug_without_keys_one_is_derived_with_a_warning():
    with override_settings(DEBUG=True, AIADMIN={}):
        assert ids(check_encryption_keys(None)) == ["aiadmin.W001"]
        call_command("check")  # runs: a warning is no error


def test_derivation_can_be_switched_off_in_debug_and_on_without_it():
    with override_settings(DEBUG=True, AIADMIN={"DERIVE_ENCRYPTION_KEY": False}):
        assert ids(check_encryption_keys(None)) == ["aiadmin.E001"]
    with override_settings(DEBUG=False, AIADMIN={"DERIVE_ENCRYPTION_KEY": True}):
        assert ids(check_encryption_keys(None)) == ["aiadmin.W001"]


def test_limits_roll_over_in_the_aiadmin_time_zone_not_djangos(settings):
    settings.TIME_ZONE = "UTC"
    aiadmin_set(settings, TIME_ZONE="Pacific/Kiritimati")  # UTC+14
    at = dt.datetime(2026, 1, 31, 12, 0, tzinfo=dt.UTC)
    assert usage.month_start(at) == dt.date(2026, 2, 1)
    aiadmin_set(settings, TIME_ZONE=None)  # unset: Django's TIME_ZONE
    assert usage.month_start(at) == dt.date(2026, 1, 1)


HOST = """
import django
from django.conf import settings
settings.configure(
    DEBUG=False,
    SECRET_KEY="a-host-project-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "aiadmin.providers", "aiadmin.unified", "aiadmin.playground"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
)
django.setup()
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
print(sorted(message.id for message in checks.run_checks()))
try:
    call_command("check")
except SystemCheckError as err:
    print(err)
"""


def test_a_host_project_without_aiadmin_and_debug_off_fails_the_checks_with_e001_only():
    result = subprocess.run([sys.executable, "-c", HOST], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr  # no exception on the way to the report
    first, report = result.stdout.split("\n", 1)
    assert first == "['aiadmin.E001']"
    assert ENCRYPTION_KEYS_LINE in report

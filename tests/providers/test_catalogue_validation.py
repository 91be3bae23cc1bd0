"""The catalogue import checks base URLs and the JSON fields with the providers' one schema:
a malformed entry is reported with its slug and field, and nothing is imported."""

from __future__ import annotations

import pytest
from django.core.management.base import CommandError

from aiadmin.providers.catalogue import CatalogueError, catalogue_import, catalogue_load
from aiadmin.providers.models import AIProvider

from .test_catalogue import entry, run_import, write_catalogue

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["http://127.0.0.1:11434/v1", "http://[::1]:8000/v1", "http://10.0.0.5/v1", "http://localhost:1234/v1", "http://ollama:11434/v1"])
def test_an_entry_with_a_private_url_and_no_mark_fails_naming_slug_and_field(tmp_path, url):
    entries = [entry("fine"), entry("home-llm", api_base_url=url)]
    with pytest.raises(CommandError) as excinfo:
        run_import("--file", write_catalogue(tmp_path, entries))
    message = str(excinfo.value)
    assert "home-llm: api_base_url: The base URL points at" in message and "allow_private_network" in message
    assert "nothing was imported" in message
    assert not AIProvider.objects.exists()


def test_the_same_entry_marked_self_hosted_imports(tmp_path):
    marked = entry("home-llm", api_base_url="http://localhost:11434/v1", config={"auth": {"style": "none"}, "allow_private_network": True})
    run_import("--file", write_catalogue(tmp_path, [marked]))
    assert AIProvider.objects.get(slug="home-llm").config["allow_private_network"] is True


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ({"config": {"auth": "oops"}}, "x: config.auth: must be an object"),
        ({"config": {"allow_private_networks": True}}, "x: config.allow_private_networks: unknown key"),
        ({"config": {"extra_headers": {"X-Title": "a\nb"}}}, "x: config.extra_headers.X-Title: must be text"),
        ({"capabilities": {"chat": {"supported": "yes"}}}, "x: capabilities.chat.supported: must be true or false"),
        ({"capabilities": [1]}, "x: capabilities: must be an object"),
    ],
)
def test_schema_problems_are_reported_with_slug_and_field_path(tmp_path, bad, expected):
    with pytest.raises(CommandError) as excinfo:
        run_import("--file", write_catalogue(tmp_path, [entry("ok"), {**entry("x"), **bad}]))
    assert expected in str(excinfo.value)
    assert not AIProvider.objects.exists()


def test_the_bundled_catalogue_loads_and_imports_whole():
    entries = catalogue_load()
    assert len(entries) == 59
    report = catalogue_import(entries=entries)
    assert len(report.created) == 59


def test_the_import_service_checks_entries_that_were_not_loaded_from_a_file():
    with pytest.raises(CatalogueError) as excinfo:
        catalogue_import(entries=[entry("ok"), entry("inner", api_base_url="http://169.254.169.254/v1")])
    assert excinfo.value.problems[0].startswith("inner: api_base_url: The base URL points at the loopback or private-network address 169.254.169.254")
    assert not AIProvider.objects.exists()

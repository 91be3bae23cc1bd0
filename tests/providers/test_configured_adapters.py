"""AIADMIN["ADAPTERS"] registers extra adapters by dotted path at start-up; one that cannot be
loaded is a check error naming it, not a crash. AIADMIN["LOAD_ADAPTER_ENTRY_POINTS"] switches
entry-point discovery."""

from __future__ import annotations

from django.apps import apps

from aiadmin.adapters.base import BaseAdapter
from aiadmin.adapters.registry import AIProviderRegistry, registry
from aiadmin.conf import check_aiadmin_settings
from aiadmin.providers.configured_adapters import adapters_register_configured
from tests.aiadmin_overrides import aiadmin_set


class ConfiguredAdapter(BaseAdapter):
    key = "configured-test"
    label = "Configured (tests)"
    capabilities = frozenset({"chat"})


def test_a_configured_adapter_is_registered_under_its_key(settings):
    aiadmin_set(settings, ADAPTERS={"configured-test": f"{__name__}.ConfiguredAdapter"})
    fresh = AIProviderRegistry()
    adapters_register_configured(registry=fresh)
    assert fresh.get("configured-test") is ConfiguredAdapter
    assert check_aiadmin_settings(None) == []


def test_an_adapter_that_cannot_be_loaded_is_a_check_error_naming_it(settings):
    aiadmin_set(settings, ADAPTERS={"missing": "no_such_package.Adapter", "wrong-key": f"{__name__}.ConfiguredAdapter"})
    fresh = AIProviderRegistry()
    adapters_register_configured(registry=fresh)  # logs, does not raise
    assert fresh.keys() == [] and set(fresh.load_errors) == {"missing", "wrong-key"}
    errors = check_aiadmin_settings(None)
    assert [error.id for error in errors] == ["aiadmin.E032", "aiadmin.E032"]
    assert "no_such_package.Adapter" in errors[0].msg and "'configured-test', not 'wrong-key'" in errors[1].msg


def test_entry_point_discovery_follows_the_switch(settings, monkeypatch):
    discovered = []
    monkeypatch.setattr(registry, "discover", lambda: discovered.append(True))
    config = apps.get_app_config("aiadmin_providers")
    aiadmin_set(settings, LOAD_ADAPTER_ENTRY_POINTS=False)
    config.ready()
    assert discovered == []
    aiadmin_set(settings, LOAD_ADAPTER_ENTRY_POINTS=True)
    config.ready()
    assert discovered == [True]

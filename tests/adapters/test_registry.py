"""The adapter registry: explicit built-ins, entry-point plugins discovered once, failures
recorded instead of raised."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from aiadmin.adapters import registry as registry_module
from aiadmin.adapters.base import BaseAdapter
from aiadmin.adapters.errors import AdapterMissingError
from aiadmin.adapters.registry import AIProviderRegistry, build_registry
from aiadmin.adapters.sandbox import SandboxAdapter


class PluginAdapter(BaseAdapter):
    key = "plugin-cloud"
    label = "Plugin Cloud"
    capabilities = frozenset({"chat"})


class NotAnAdapter:
    key = "not-an-adapter"


def fake_entry_points(*points: tuple[str, str]):
    def entry_points(group: str):
        assert group == "aiadmin.adapters"
        return [EntryPoint(name=name, value=value, group=group) for name, value in points]

    return entry_points


def test_built_in_sandbox_is_registered_explicitly():
    assert build_registry().get("sandbox") is SandboxAdapter


def test_entry_point_adapters_are_discovered(monkeypatch):
    monkeypatch.setattr(registry_module, "entry_points", fake_entry_points(("plugin-cloud", f"{__name__}:PluginAdapter")))
    registry = build_registry()
    registry.discover()
    assert registry.get("plugin-cloud") is PluginAdapter
    assert ("plugin-cloud", "Plugin Cloud (plugin-cloud)") in registry.choices()


def test_discovery_runs_once(monkeypatch):
    calls = []

    def counting(group):
        calls.append(group)
        return []

    monkeypatch.setattr(registry_module, "entry_points", counting)
    registry = AIProviderRegistry()
    registry.discover()
    registry.discover()
    assert calls == ["aiadmin.adapters"]


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("broken", "no_such_module_xyz:Adapter", "ModuleNotFoundError"),
        ("not-an-adapter", f"{__name__}:NotAnAdapter", "TypeError"),
        ("wrong-name", f"{__name__}:PluginAdapter", "differs from the adapter key"),
    ],
)
def test_a_broken_plugin_is_recorded_not_raised(monkeypatch, name, value, expected):
    monkeypatch.setattr(registry_module, "entry_points", fake_entry_points((name, value)))
    registry = build_registry()
    registry.discover()
    assert name not in registry
    assert expected in registry.load_errors[name]
    assert "sandbox" in registry  # the built-ins still work


def test_requiring_a_missing_adapter_gives_a_clear_error():
    with pytest.raises(AdapterMissingError) as excinfo:
        build_registry().require("nope", provider="Acme")
    assert "'nope' is not installed" in str(excinfo.value)
    assert str(excinfo.value).startswith("Acme: ")  # names the provider when the message does not


def test_registering_a_second_class_under_a_taken_key_is_refused():
    class Impostor(BaseAdapter):
        key = "sandbox"
        label = "Impostor"

    with pytest.raises(ValueError, match="already registered"):
        build_registry().register(Impostor)


def test_adapter_repr_never_shows_the_key():
    adapter = PluginAdapter(base_url="https://x.example/v1", api_key="sk-secret-value-123456")
    assert "sk-secret" not in repr(adapter)


def test_the_adapter_package_imports_no_django():
    import subprocess
    import sys

    code = (
        "import sys, aiadmin.adapters.registry, aiadmin.adapters.base, aiadmin.adapters.errors; "
        "assert not any(m == 'django' or m.startswith('django.') for m in sys.modules), 'django imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

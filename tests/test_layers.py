"""The package's layers import only downwards: adapters -> providers -> unified -> playground
-> console, with the HTTP API (api) beside the console (neither imports the other), and the
adapters import no Django (they know HTTP, not the ORM)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "aiadmin"
LAYERS = ("adapters", "providers", "unified", "playground", "console", "api")
# The console and the HTTP API share the top rank.
RANK = {"adapters": 0, "providers": 1, "unified": 2, "playground": 3, "console": 4, "api": 4}


def imported_modules(path: Path) -> list[str]:
    """Absolute names of every module ``path`` imports (relative imports resolved)."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                names.append(".".join(base + ([node.module] if node.module else [])))
            else:
                names.append(node.module)
    return names


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "aiadmin" and len(parts) > 1 and parts[1] in LAYERS else None


def source_files():
    return [path for path in PACKAGE.rglob("*.py") if "migrations" not in path.parts]


def test_no_layer_imports_a_higher_one():
    upward = []
    for path in source_files():
        own = layer_of(".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts))
        if own is None:
            continue
        for name in imported_modules(path):
            other = layer_of(name)
            if other is not None and other != own and RANK[other] >= RANK[own]:
                upward.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    assert upward == []


def test_the_adapters_import_no_django_and_nothing_else_of_aiadmin_outside_them():
    found = []
    for path in (PACKAGE / "adapters").rglob("*.py"):
        for name in imported_modules(path):
            if name.split(".")[0] == "django" or (name.startswith("aiadmin.") and layer_of(name) != "adapters"):
                found.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    assert found == []


def test_relative_imports_are_resolved_to_their_layer():
    """What the tests above rely on: ``from ..access import x`` in console/views/ is seen as
    aiadmin.console.access, and ``from .picker import x`` in playground/ as aiadmin.playground."""
    assert "aiadmin.console.access" in imported_modules(PACKAGE / "console" / "views" / "chat.py")
    assert "aiadmin.playground.picker" in imported_modules(PACKAGE / "playground" / "forms.py")

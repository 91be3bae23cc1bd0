"""`pip install aiadmin` must carry everything a host's Django loads from the package: every
template and static file, every migration and the provider catalogue, and nothing of this
repository's own host project or tests."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from .conftest import REPO_ROOT

pytestmark = pytest.mark.host

PACKAGE = REPO_ROOT / "aiadmin"
# Template names the Python code renders, and the ones templates extend or include (a
# "#name" suffix is a partial of that template: django-template-partials).
RENDERED = re.compile(r"""["'](aiadmin/[\w/.-]+\.html)(?:#[\w-]+)?["']""")
TEMPLATE_TAG = re.compile(r"""{%\s*(?:extends|include)\s+["']([^"']+)["']""")
STATIC_TAG = re.compile(r"""{%\s*static\s+["']([^"']+)["']""")


@pytest.fixture(scope="module")
def wheel_names(aiadmin_wheel: Path) -> set[str]:
    with zipfile.ZipFile(aiadmin_wheel) as wheel:
        return set(wheel.namelist())


def repo_files(*patterns: str) -> list[str]:
    found = {path for pattern in patterns for path in PACKAGE.glob(pattern) if path.is_file() and "__pycache__" not in path.parts}
    return sorted(path.relative_to(REPO_ROOT).as_posix() for path in found)


def in_app_dirs(wheel_names: set[str], kind: str, name: str) -> list[str]:
    """The wheel's files that Django's app-directories loader or finder finds for ``name``."""
    return [path for path in wheel_names if path.startswith("aiadmin/") and path.endswith(f"/{kind}/{name}")]


def test_every_template_and_static_file_is_in_the_wheel(wheel_names):
    files = repo_files("**/templates/**/*", "**/static/**/*")
    assert any(path.endswith("/vendor/alpinejs-csp/LICENSE") for path in files)  # the walk found them
    missing = [path for path in files if path not in wheel_names]
    assert missing == []


def test_every_migration_and_the_catalogue_are_in_the_wheel(wheel_names):
    files = repo_files("**/migrations/*.py", "providers/catalogue/*.json")
    assert "aiadmin/providers/catalogue/providers.json" in files
    missing = [path for path in files if path not in wheel_names]
    assert missing == []


def test_every_template_the_code_names_resolves_in_the_wheel(wheel_names):
    names = {name for path in PACKAGE.rglob("*.py") for name in RENDERED.findall(path.read_text())}
    for template in PACKAGE.rglob("templates/**/*.html"):
        names.update(name.partition("#")[0] for name in TEMPLATE_TAG.findall(template.read_text()) if name.startswith("aiadmin/"))
    assert "aiadmin/console/chat.html" in names and "aiadmin/console/base.html" in names
    missing = sorted(name for name in names if not in_app_dirs(wheel_names, "templates", name))
    assert missing == []


def test_every_static_file_the_templates_link_resolves_in_the_wheel(wheel_names):
    names = {
        name
        for template in PACKAGE.rglob("templates/**/*.html")
        for name in STATIC_TAG.findall(template.read_text())
        if name.startswith("aiadmin/")
    }
    assert {"aiadmin/chat.js", "aiadmin/sse.js", "aiadmin/vendor/alpinejs-csp/cdn.min.js"} <= names
    missing = sorted(name for name in names if not in_app_dirs(wheel_names, "static", name))
    assert missing == []


def test_the_wheel_holds_only_the_package(wheel_names):
    outside = sorted(name for name in wheel_names if not name.startswith(("aiadmin/", "aiadmin-")))
    assert outside == []

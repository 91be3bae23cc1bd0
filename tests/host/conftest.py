"""The wheel built from this repository, once per session, for the host tests.

It is built from a copy of the repository (without .git, virtual environments and earlier
build output): setuptools' in-tree build/ directory would otherwise outlive the files it was
copied from and smuggle a deleted template into the wheel."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# What a fresh clone does not have, or what is not source.
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__", "*.pyc", ".pytest_cache",
    "node_modules", "media", "staticfiles", "test-artifacts", "db.sqlite3",
)


def run(command: list[str], *, what: str, timeout: float, **kwargs) -> subprocess.CompletedProcess:
    """Run a command; on failure, fail the test with what it printed."""
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)
    except subprocess.TimeoutExpired as err:
        pytest.fail(f"{what} took longer than {timeout:.0f} s: {command}\nstdout:\n{err.stdout}\nstderr:\n{err.stderr}")
    if result.returncode != 0:
        pytest.fail(
            f"{what} failed (exit {result.returncode}): {command}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )
    return result


def wheel_build(destination: Path) -> Path:
    source = destination / "source"
    shutil.copytree(REPO_ROOT, source, ignore=NOT_SOURCE)
    out = destination / "dist"
    run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check", "-q", "-w", str(out), str(source)],
        what="Building the aiadmin wheel",
        timeout=300,
    )
    wheels = sorted(out.glob("aiadmin-*.whl"))
    if len(wheels) != 1:
        pytest.fail(f"Expected one aiadmin wheel in {out}, found {[wheel.name for wheel in out.iterdir()]}")
    return wheels[0]


@pytest.fixture(scope="session")
def aiadmin_wheel(tmp_path_factory) -> Path:
    return wheel_build(tmp_path_factory.mktemp("wheel"))

"""The console as the run command serves it: uvicorn (ASGI) with the Unfold admin and its
static files, on a throwaway SQLite database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def uvicorn_server(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(DJANGO_SETTINGS_MODULE="standalone.settings.dev", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run([sys.executable, "manage.py", "import_providers", "-v", "0"], cwd=ROOT, env=env, check=True)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "standalone.asgi:application", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/admin/login/", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.2)
    try:
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_uvicorn_serves_the_admin_login_and_unfold_static_files(uvicorn_server):
    login = httpx.get(f"{uvicorn_server}/admin/login/")
    assert login.status_code == 200
    assert "aiadmin" in login.text
    assets = [part.split('"')[0] for part in login.text.split('="')[1:] if part.startswith("/static/")]
    assert any(asset.endswith(".css") for asset in assets) and any(asset.endswith(".js") for asset in assets)
    for asset in assets:
        response = httpx.get(f"{uvicorn_server}{asset}")
        assert response.status_code == 200, asset
        assert response.content, asset
    assert httpx.get(f"{uvicorn_server}/").status_code in {301, 302}

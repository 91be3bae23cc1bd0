"""Two OS processes on one SQLite file and the embedded default (local-memory cache, so the
processes share nothing but the database), as two uvicorn workers would: process A calls a
provider in a loop, process B changes what A may do, and A follows within 2 seconds."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEADLINE_SECONDS = 2.0

# Process A: a worker. An adapter that answers with the model and the key's last four
# characters, called in a loop; every change of outcome is reported as one JSON line.
WORKER = r'''
import json, sys, time
import django
django.setup()
from django.contrib.auth import get_user_model
from aiadmin.adapters.base import BaseAdapter
from aiadmin.adapters.errors import AIAdminError
from aiadmin.adapters.registry import registry
from aiadmin.adapters.types import ChatChunk, Usage
from aiadmin.unified import UnifiedAIService

class EchoAdapter(BaseAdapter):
    key = "echo"
    label = "Echo"
    capabilities = frozenset({"chat"})
    requires_base_url = False

    async def stream_chat(self, request):
        yield ChatChunk(f"{request.model}/{self.api_key[-4:]}")
        yield Usage(input_tokens=1, output_tokens=1)

registry.register(EchoAdapter, replace=True)
admin = get_user_model().objects.get(username="worker")
service = UnifiedAIService()
last = None
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    started = time.time()  # the call that shows a change began this long after it
    try:
        outcome = service.chat("hi", admin, provider_slug="echo").text
    except AIAdminError as err:
        outcome = "refused:" + err.kind
    if outcome != last:
        print(json.dumps({"at": started, "outcome": outcome}), flush=True)
        last = outcome
    time.sleep(0.01)
'''

SETUP = r'''
import django
django.setup()
from django.contrib.auth import get_user_model
from aiadmin.providers.models import AIModel, AIProvider
get_user_model().objects.create_user("worker", "w@example.com", "pw-worker-123", is_staff=True)
provider = AIProvider.objects.create(
    slug="echo", name="Echo", adapter="echo", api_base_url="https://echo.example.com/v1",
    capabilities={"chat": {"supported": True, "dynamic_models": False}},
    shared_api_key="sk-first-key-1111", allow_shared_for_normal_admins=True,
)
AIModel.objects.create(provider=provider, capability="chat", model_id="m-one", is_active=True)
AIModel.objects.create(provider=provider, capability="chat", model_id="m-two", is_active=False)
'''

# Process B: the changes a superadmin makes, each in its own short process, as another worker.
CHANGES = {
    "key replaced": ("p.shared_api_key = 'sk-second-key-2222'; p.save()", "m-one/2222"),
    "sharing policy off": ("p.allow_shared_for_normal_admins = False; p.save()", "refused:no_access"),
    "sharing policy on": ("p.allow_shared_for_normal_admins = True; p.save()", "m-one/2222"),
    "model selection": (
        "AIModel.objects.filter(provider=p).update(is_active=False)\n"
        "AIModel.objects.filter(provider=p, model_id='m-two').update(is_active=True)",
        "m-two/2222",
    ),
    "key cleared": ("p.shared_api_key = ''; p.save()", "refused:no_access"),
    "key set again": ("p.shared_api_key = 'sk-third-key-3333'; p.save()", "m-two/3333"),
    "provider off": ("p.is_active = False; p.save()", "refused:configuration"),
}
CHANGE = r'''
import time
import django
django.setup()
from aiadmin.providers.models import AIModel, AIProvider
p = AIProvider.objects.get(slug="echo")
{code}
print(time.time())
'''


@pytest.fixture
def env(tmp_path):
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env = {
        **clean,
        "DJANGO_SETTINGS_MODULE": "standalone.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "PYTHONPATH": os.pathsep.join([str(ROOT), clean.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run([sys.executable, "-c", SETUP], cwd=ROOT, env=env, check=True)
    return env


class Reports:
    """Process A's lines, read on a thread so that waiting for one has a deadline."""

    def __init__(self, worker: subprocess.Popen) -> None:
        self.worker = worker
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.worker.stdout:
            self.lines.put(line)

    def next(self, timeout: float) -> dict:
        try:
            return json.loads(self.lines.get(timeout=timeout))
        except queue.Empty:
            if self.worker.poll() is not None:
                raise AssertionError(f"the worker died (exit {self.worker.returncode})") from None
            raise AssertionError(f"the worker still did the same {timeout} s later") from None


def test_every_change_reaches_another_process_within_two_seconds(env):
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    reports = Reports(worker)
    measured: dict[str, float] = {}
    try:
        assert reports.next(30)["outcome"] == "m-one/1111"
        for name, (code, expected) in CHANGES.items():
            time.sleep(0.5)  # A has a warm cached plan by now (it calls every 10 ms)
            changed = subprocess.run(
                [sys.executable, "-c", CHANGE.format(code=code)], cwd=ROOT, env=env, check=True, capture_output=True, text=True
            )
            committed_at = float(changed.stdout.split()[-1])
            seen = reports.next(10)
            assert seen["outcome"] == expected, name
            measured[name] = seen["at"] - committed_at
    finally:
        worker.kill()
        worker.wait(timeout=10)
    print("seconds until the other process followed:", json.dumps({k: round(v, 3) for k, v in measured.items()}))
    assert all(seconds < DEADLINE_SECONDS for seconds in measured.values()), measured

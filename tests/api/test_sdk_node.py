"""A chat streamed from aiadmin's HTTP API by the official ``openai`` package for Node.js
(tests/api/node: the version pinned in package-lock.json, installed by scripts/test.sh with
``npm ci``), against aiadmin under a real uvicorn server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from aiadmin.providers.models import AIRequestLog
from tests.api.server import aiadmin_server, api_server, target, wait_until  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)

NODE_DIR = Path(__file__).parent / "node"
SCRIPT = NODE_DIR / "stream.mjs"
PROMPT = "Which lighthouse is the oldest still working?"


@pytest.fixture(scope="module")
def node() -> str:
    """The node binary, with the openai package installed; skipped where the test command
    could not install them, a failure with CI=true (as the browser tests treat chromium)."""
    binary = shutil.which("node")
    problem = None
    if binary is None:
        problem = "node is not installed (the test command installs Debian's nodejs)"
    elif not (NODE_DIR / "node_modules" / "openai" / "package.json").is_file():
        problem = "the openai npm package is not installed: run npm ci --prefix tests/api/node (the test command does)"
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(problem)
        pytest.skip(problem)
    return binary


def run_stream(node: str, *, base: str, token: str, model: str) -> tuple[int, dict]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "AIADMIN_API_BASE": base,
        "AIADMIN_API_TOKEN": token,
        "AIADMIN_MODEL": model,
        "AIADMIN_PROMPT": PROMPT,
    }
    result = subprocess.run(
        [node, str(SCRIPT)], cwd=NODE_DIR, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode in (0, 2), result.stderr[-2000:]
    return result.returncode, json.loads(result.stdout.strip().splitlines()[-1])


def test_node_sdk_streams_a_chat_with_usage(node, api_server, target, token, issued):
    status, out = run_stream(node, base=api_server.api_url, token=token, model=target.model)
    assert status == 0, out
    assert out["text"] == target.answer(PROMPT)
    assert out["contentChunks"] > 1
    # The role chunk, the content chunks, the finishing chunk and the usage chunk.
    assert out["chunks"] == out["contentChunks"] + 3
    assert out["models"] == [target.model] and len(out["ids"]) == 1
    assert out["finishReasons"] == ["stop"]
    usage = out["usage"]
    assert usage["completion_tokens"] == out["contentChunks"] and usage["prompt_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]

    def written():
        api_server.ledger_flush()
        return list(AIRequestLog.objects.all())

    [row] = wait_until(written)
    assert (row.status, row.api_token_id, row.output_tokens) == ("ok", issued.token.id, usage["completion_tokens"])


def test_node_sdk_gets_its_own_error_classes(node, api_server, sandbox, token):
    status, out = run_stream(node, base=api_server.api_url, token="aia_0123456789_" + "y" * 40, model="sandbox/sandbox-chat")
    assert status == 2
    assert (out["error"]["name"], out["error"]["status"]) == ("AuthenticationError", 401)
    status, out = run_stream(node, base=api_server.api_url, token=token, model="sandbox/no-such-model")
    assert status == 2
    assert (out["error"]["name"], out["error"]["status"], out["error"]["code"]) == ("NotFoundError", 404, "model_not_found")
    assert "sandbox/sandbox-chat" in out["error"]["message"]

"""The log filter (aiadmin/logging.py) as the project's LOGGING installs it: no key reaches the
output, whichever logger emitted the record, and the filter never loses a record."""

from __future__ import annotations

import io
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, quote_plus

import httpx
import pytest
from django.conf import settings

from aiadmin import known_secrets as registry
from aiadmin.known_secrets import redact_from_logs
from aiadmin.logging import RedactSecretsFilter
from aiadmin.providers.models import AIProvider
from aiadmin.unified import UnifiedAIService

# Not shaped like any known key: only the filter's knowledge of stored keys can remove it.
KEY = "Zq9plain-custom-secret-77"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _fresh_known_secrets() -> Iterator[None]:
    registry._known.clear()
    yield
    registry._known.clear()


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    """What the handler that LOGGING put on the root logger writes, with the root at DEBUG."""
    root = logging.getLogger()
    handlers = [h for h in root.handlers if any(isinstance(f, RedactSecretsFilter) for f in h.filters)]
    assert len(handlers) == 1, "LOGGING must install RedactSecretsFilter on the root's handler"
    handler = handlers[0]
    stream, level = io.StringIO(), root.level
    previous = handler.setStream(stream)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.setLevel(level)
        handler.setStream(previous)


class _EchoHandler(BaseHTTPRequestHandler):
    """A careless upstream: answers a model list and echoes the presented key in a header."""

    def do_GET(self) -> None:  # noqa: N802 (the http.server API)
        presented = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
        body = json.dumps({"object": "list", "data": [{"id": "echo-model", "object": "model"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("x-echo-key", presented)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echo_upstream() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.django_db(transaction=True)
def test_a_key_an_upstream_echoes_in_a_response_header_is_not_in_any_debug_log(echo_upstream, superuser, output):
    # The shared transport (aiohttp) logs no headers; httpcore's record of them, should a host
    # route requests through it, is checked by the filter's own tests below.
    provider = AIProvider.objects.create(
        slug="echo",
        name="Echo",
        adapter="openai",
        api_base_url=echo_upstream,
        capabilities={"chat": {"supported": True, "dynamic_models": True}},
        config={"auth": {"style": "bearer"}, "allow_private_network": True},
        shared_api_key=KEY,
    )
    registry._known.clear()  # as in a worker that has not used this key yet
    result = UnifiedAIService().validate_key(provider.slug, superuser)  # a real call over loopback
    assert result.ok, result.message
    assert KEY not in output.getvalue()


# Printable, no spaces (as the key form accepts), with characters that each spelling escapes.
ODD_KEY = "Zq9odd/key+with'quote\\back"


@pytest.mark.parametrize(
    "spelled",
    [
        ODD_KEY,
        repr(ODD_KEY),
        repr(ODD_KEY.encode()),  # httpcore prints header values as bytes
        json.dumps({"key": ODD_KEY}),
        f"https://api.example.com/v1/models?k={quote(ODD_KEY, safe='')}",
        f"https://api.example.com/v1/models?k={quote_plus(ODD_KEY)}",
    ],
)
def test_a_known_key_is_removed_in_each_spelling(output, spelled):
    redact_from_logs(ODD_KEY)
    logging.getLogger("some.host.logger").info("sent %s", spelled)
    assert "Zq9odd" not in output.getvalue() and "[redacted]" in output.getvalue()


# Not key-shaped either: these go because of the header they sit in.
HEADER_VALUE = "opaque-value-4711"


@pytest.mark.parametrize(
    "line",
    [
        f"Authorization: Bearer {HEADER_VALUE}",
        f"authorization: Basic {HEADER_VALUE}",
        f"x-api-key: {HEADER_VALUE}",
        f"{{'Authorization': 'Bearer {HEADER_VALUE}', 'x-api-key': '{HEADER_VALUE}'}}",
        f'{{"api-key": "{HEADER_VALUE}", "x-goog-api-key": "{HEADER_VALUE}"}}',
        f"[(b'authorization', b'Bearer {HEADER_VALUE}'), (b'x-api-key', b'{HEADER_VALUE}')]",
        f"(b'X-Goog-Api-Key', b'{HEADER_VALUE}')",
        f"GET /v1/models?api_key={HEADER_VALUE}&limit=5",
    ],
)
def test_credential_header_values_are_removed_in_str_and_bytes_spellings(output, line):
    logging.getLogger("httpcore.http11").debug("send_request_headers headers=%s", line)
    text = output.getvalue()
    assert HEADER_VALUE not in text and "[redacted]" in text
    assert "send_request_headers headers=" in text


def test_header_values_in_args_of_any_type_are_removed(output):
    logging.getLogger("httpx").warning("headers %r", [(b"x-api-key", HEADER_VALUE.encode())])
    assert HEADER_VALUE not in output.getvalue()


def test_a_key_in_an_exception_and_its_traceback_is_removed(output):
    redact_from_logs(KEY)
    logger = logging.getLogger("aiadmin.anything")
    try:
        try:
            raise ValueError(f"upstream said: bad key {KEY}")
        except ValueError as err:
            raise RuntimeError(f"call failed with {KEY!r}") from err
    except RuntimeError:
        logger.exception("the call failed", stack_info=True)
    text = output.getvalue()
    assert "Traceback (most recent call last)" in text and "Stack (most recent call last)" in text
    assert "ValueError: upstream said: bad key [redacted]" in text
    assert KEY not in text


def test_a_record_for_a_formatter_that_reads_exc_info_itself_carries_only_redacted_text():
    redact_from_logs(KEY)
    try:
        raise RuntimeError(KEY)
    except RuntimeError:
        record = logging.getLogger("x").makeRecord("x", logging.ERROR, "f", 1, "failed", (), sys.exc_info())
    RedactSecretsFilter().filter(record)
    assert record.exc_info is None and KEY not in record.exc_text and "RuntimeError" in record.exc_text


def test_string_extras_are_redacted_for_structured_formatters():
    record = logging.makeLogRecord({"msg": "call", "headers": f"Authorization: Bearer {HEADER_VALUE}", "count": 3})
    RedactSecretsFilter().filter(record)
    assert HEADER_VALUE not in record.headers and record.count == 3


class _Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no")

    __repr__ = __str__


@pytest.mark.parametrize(
    ("msg", "args"),
    [
        ("%d requests", ("many",)),  # arguments that do not fit
        ("%s and %s", ("one",)),  # too few
        (f"{KEY} %s %s", (KEY,)),  # too few, and a key in both
        ({"key": KEY}, ()),  # not a str
        (_Unprintable(), ()),
        ("value %s", (_Unprintable(),)),
        (None, None),
    ],
)
def test_the_filter_never_raises_and_never_drops_an_odd_record(output, msg, args):
    redact_from_logs(KEY)
    record = logging.getLogger("odd").makeRecord("odd", logging.WARNING, "f", 1, msg, args, None)
    assert RedactSecretsFilter().filter(record) is True
    logging.getLogger("odd").handle(record)
    text = output.getvalue()
    assert text.strip() and "--- Logging error ---" not in text and KEY not in text


def test_odd_exc_info_is_kept_as_text():
    record = logging.makeLogRecord({"msg": "x", "exc_info": "not a triple"})
    assert RedactSecretsFilter().filter(record) is True
    assert record.exc_text and record.exc_info is None


def test_every_handler_in_logging_carries_the_filter():
    filters = settings.LOGGING["filters"]
    names = [name for name, spec in filters.items() if spec.get("()") == "aiadmin.logging.RedactSecretsFilter"]
    assert len(names) == 1
    for handler, spec in settings.LOGGING["handlers"].items():
        assert names[0] in spec.get("filters", []), handler


_UNDER_UVICORN = """
import logging, logging.config, sys
import uvicorn.config
logging.config.dictConfig(uvicorn.config.LOGGING_CONFIG)  # what uvicorn does before loading the app
import django
django.setup()  # what standalone.asgi does: LOGGING applied after uvicorn's
from aiadmin.known_secrets import redact_from_logs
key = sys.argv[1]
redact_from_logs(key)
for name in ("uvicorn.error", "uvicorn.asgi", "django.request", "django.server", "httpcore.connection"):
    try:
        raise RuntimeError(f"{name} saw {key}")
    except RuntimeError:
        logging.getLogger(name).error("%s: Authorization: Bearer %s", name, key, exc_info=True)
"""


def test_records_of_djangos_and_uvicorns_loggers_reach_only_filtered_handlers():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "DJANGO_SETTINGS_MODULE": "standalone.settings.dev", "AIADMIN_LOG_LEVEL": "DEBUG"}
    done = subprocess.run([sys.executable, "-c", _UNDER_UVICORN, KEY], env=env, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    text = done.stdout + done.stderr
    for name in ("uvicorn.error", "uvicorn.asgi", "django.request", "django.server", "httpcore.connection"):
        assert f"{name}: Authorization: [redacted]" in text, text
    assert "Zq9plain" not in text, text


_LEAKY_APP = """
import os

import standalone.asgi  # noqa: F401  (the project's app module: Django set up, LOGGING applied after uvicorn's)
from aiadmin.known_secrets import redact_from_logs

KEY = os.environ["LEAK_KEY"]
redact_from_logs(KEY)


async def application(scope, receive, send):
    raise RuntimeError(f"upstream echoed {KEY}")
"""


def test_under_a_real_uvicorn_an_exception_quoting_a_key_is_logged_redacted(tmp_path):
    (tmp_path / "leaky_app.py").write_text(_LEAKY_APP)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        DJANGO_SETTINGS_MODULE="standalone.settings.dev",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        LEAK_KEY=KEY,
    )
    command = [sys.executable, "-m", "uvicorn", "leaky_app:application", "--app-dir", str(tmp_path),
               "--host", "127.0.0.1", "--port", str(port), "--lifespan", "off"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                assert httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 500
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None, "uvicorn did not start"
                time.sleep(0.2)
    finally:
        server.terminate()
        out, err = server.communicate(timeout=10)
    assert "Exception in ASGI application" in err and "RuntimeError: upstream echoed [redacted]" in err, err
    assert KEY not in out + err

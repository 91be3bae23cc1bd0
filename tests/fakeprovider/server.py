"""Run the fake provider under uvicorn on 127.0.0.1, on a free port, in a background thread.

::

    server = FakeProviderServer(latency_ms=5).start()
    try:
        httpx.get(server.openai_base_url + "/models", headers={"Authorization": "Bearer test-key"})
        assert server.requests[-1].path == "/openai/v1/models"
    finally:
        server.stop()

or ``with FakeProviderServer() as server: ...``. The server has its own event loop, so sync
tests, async tests and Django's test client can all call it.

For benchmarks, run it in its own process so it does not share a GIL with the client::

    python -m tests.fakeprovider.server --port 8765 --latency-ms 20 --no-record

uvicorn uses httptools and uvloop when they are installed (h11 and asyncio otherwise).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Sequence
from typing import Any

import uvicorn

from tests.uvicorn_thread import HOST, UvicornThread, new_loop

from .app import DEFAULT_API_KEY, FakeProviderApp, FakeSettings, RecordedRequest

# Enough for the benchmark's 1,000+ concurrent connections arriving at once.
BACKLOG = 4096


class FakeProviderServer(UvicornThread):
    """The fake provider on a real socket. Settings are keyword arguments (see
    :class:`~tests.fakeprovider.app.FakeSettings`); :meth:`configure` changes them later and
    :meth:`reset` restores them and clears the request log."""

    name = "fake-provider"
    backlog = BACKLOG

    def __init__(self, **settings: Any) -> None:
        self._initial = FakeSettings(**settings)
        super().__init__(FakeProviderApp(dataclasses.replace(self._initial)))

    # ------------------------------------------------------------------ lifecycle

    def config(self) -> uvicorn.Config:
        return _config(self.app)

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread is not None:
            self.app.begin_shutdown()
        super().stop(timeout)

    # ------------------------------------------------------------------ addresses

    @property
    def openai_base_url(self) -> str:
        """Base URL for the ``openai`` adapter (OpenAI-compatible, OpenRouter-like lists)."""
        return f"{self.base_url}/openai/v1"

    @property
    def anthropic_base_url(self) -> str:
        """Base URL for the ``anthropic`` adapter (it appends ``/v1/messages``)."""
        return f"{self.base_url}/anthropic"

    @property
    def gemini_base_url(self) -> str:
        return f"{self.base_url}/gemini/v1beta"

    @property
    def hf_router_url(self) -> str:
        """Base URL for the ``huggingface`` adapter (router, OpenAI-compatible chat)."""
        return f"{self.base_url}/hf/router/v1"

    @property
    def hf_hub_url(self) -> str:
        """The ``hub_url`` config value for the ``huggingface`` adapter."""
        return f"{self.base_url}/hf"

    # ------------------------------------------------------------------ settings and log

    @property
    def settings(self) -> FakeSettings:
        return self.app.settings

    @property
    def api_key(self) -> str:
        return self.app.settings.api_key

    def configure(self, **changes: Any) -> None:
        """Change settings (``latency_ms=5``, ``list_failure="error500"``, ``api_key=...``)."""
        for name, value in changes.items():
            if not hasattr(self.app.settings, name):
                raise AttributeError(f"FakeSettings has no setting {name!r}")
            setattr(self.app.settings, name, value)

    def set_list_failure(self, mode: str | None) -> None:
        """Make the model-list endpoints fail with ``mode`` (None to stop)."""
        self.configure(list_failure=mode)

    def reset(self) -> None:
        """Restore the initial settings and clear the request log and flaky counters."""
        for item in dataclasses.fields(FakeSettings):
            setattr(self.app.settings, item.name, getattr(self._initial, item.name))
        self.app.reset_state()

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received since the last reset, oldest first."""
        return self.app.requests

    def requests_to(self, path_fragment: str) -> list[RecordedRequest]:
        return [request for request in self.app.requests if path_fragment in request.path]

    @property
    def last_request(self) -> RecordedRequest | None:
        requests = self.app.requests
        return requests[-1] if requests else None

    def wait_for(self, predicate: Any, timeout: float = 5.0) -> RecordedRequest:
        """The first recorded request for which ``predicate(request)`` holds, waiting for it
        (e.g. for ``client_disconnected`` to be noticed after a client cancels)."""
        deadline = time.monotonic() + timeout
        while True:
            for request in self.app.requests:
                if predicate(request):
                    return request
            if time.monotonic() > deadline:
                raise AssertionError("No matching request reached the fake provider in time.")
            time.sleep(0.01)


def _config(app: FakeProviderApp, **overrides: Any) -> uvicorn.Config:
    options: dict[str, Any] = {
        "lifespan": "off",
        "http": "auto",
        # Leave the process's logging configuration alone (pytest, Django).
        "log_config": None,
        "log_level": "warning",
        "access_log": False,
        "backlog": BACKLOG,
        "timeout_keep_alive": 30,
        "timeout_graceful_shutdown": 1,
    }
    options.update(overrides)
    return uvicorn.Config(app, **options)


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the fake provider in the foreground (for benchmarks and manual checks)."""
    parser = argparse.ArgumentParser(description="Run the aiadmin fake AI provider.")
    parser.add_argument("--host", default=HOST)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--api-key", default=DEFAULT_API_KEY)
    parser.add_argument("--latency-ms", type=int, default=0, help="added before every response")
    parser.add_argument("--slow-ms", type=int, default=2000)
    parser.add_argument("--no-record", action="store_true", help="keep no request log")
    args = parser.parse_args(argv)
    app = FakeProviderApp(
        FakeSettings(
            api_key=args.api_key,
            latency_ms=args.latency_ms,
            slow_ms=args.slow_ms,
            record_requests=not args.no_record,
        )
    )
    server = uvicorn.Server(_config(app, host=args.host, port=args.port, log_level="info"))
    print(f"Fake provider on http://{args.host}:{args.port} (OpenAI /openai/v1, Anthropic /anthropic, "
          f"Gemini /gemini/v1beta, Hugging Face /hf)", flush=True)
    loop = new_loop()
    try:
        loop.run_until_complete(server.serve())
    finally:
        loop.close()


if __name__ == "__main__":
    main()


__all__ = ["DEFAULT_API_KEY", "FakeProviderServer", "main"]

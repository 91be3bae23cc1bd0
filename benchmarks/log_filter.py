"""Cost of the secret-redacting log filter per record (``.venv/bin/python benchmarks/log_filter.py``).

Times ``RedactSecretsFilter.filter`` on a typical INFO record (a short message with arguments)
and on httpcore's DEBUG record of a response's headers, with 0, 10, 100 and the maximum number
of keys known to the process, next to what the project's handler already spends formatting and
writing the same record; and how long compiling the known keys into one pattern takes. Best of
five runs of 20,000 records each. No Django, no database.
"""

from __future__ import annotations

import io
import logging
import platform
import random
import string
import sys
import time
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiadmin import known_secrets  # noqa: E402  (the repository root is on the path now)
from aiadmin.known_secrets import MAX_KNOWN_SECRETS, redact_from_logs  # noqa: E402
from aiadmin.logging import RedactSecretsFilter  # noqa: E402

RECORDS = 20_000
HEADERS = [
    (b"Date", b"Sun, 29 Nov 2026 18:00:00 GMT"),
    (b"Content-Type", b"application/json"),
    (b"Transfer-Encoding", b"chunked"),
    (b"Connection", b"keep-alive"),
    (b"x-request-id", b"req_0123456789abcdef"),
    (b"openai-processing-ms", b"412"),
    (b"x-ratelimit-remaining-requests", b"9999"),
    (b"cf-ray", b"8f0123456789abcd-FRA"),
]


def info_record() -> logging.LogRecord:
    return logging.LogRecord(
        "aiadmin.unified.ledger", logging.INFO, __file__, 1, "Wrote %d usage ledger row(s) in %.1f ms", (12, 3.4), None
    )


def headers_record() -> logging.LogRecord:
    return logging.LogRecord(
        "httpcore.http11", logging.DEBUG, __file__, 1, "receive_response_headers.complete return_value=%r",
        ((b"HTTP/1.1", 200, b"OK", HEADERS),), None,
    )


def microseconds_per_record(make, work) -> float:
    best = float("inf")
    for _ in range(5):
        records = iter([make() for _ in range(RECORDS)])
        best = min(best, timeit.timeit(lambda: work(next(records)), number=RECORDS))
    return best / RECORDS * 1e6


def random_key(rng: random.Random) -> str:
    prefix = rng.choice(["sk-proj-", "sk-or-v1-", "sk-ant-api03-", "AIza", "hf_", "gsk_", "xai-", ""])
    return prefix + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(rng.randint(32, 64)))


def know(count: int, rng: random.Random) -> None:
    known_secrets._known.clear()
    for _ in range(count):
        redact_from_logs(random_key(rng))


def main() -> None:
    rng = random.Random(7)
    redacting = RedactSecretsFilter()
    print(f"Python {platform.python_version()} on {platform.machine()}, {platform.system()}")
    for count in (0, 10, 100, MAX_KNOWN_SECRETS):
        know(count, rng)
        info = microseconds_per_record(info_record, redacting.filter)
        headers = microseconds_per_record(headers_record, redacting.filter)
        print(f"{count:4d} keys known: INFO record {info:5.2f} us, httpcore headers record {headers:5.2f} us")
    known_secrets._known.clear()
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))  # LOGGING's
    print(f"for scale, the handler formatting and writing the INFO record: {microseconds_per_record(info_record, handler.handle):.2f} us")
    know(MAX_KNOWN_SECRETS, rng)
    started = time.perf_counter()
    known_secrets._known._compile()
    print(
        f"compiling {MAX_KNOWN_SECRETS} keys into one pattern: {(time.perf_counter() - started) * 1000:.0f} ms "
        f"(once per {known_secrets._UNCOMPILED_MAX + 1} new keys)"
    )


if __name__ == "__main__":
    main()

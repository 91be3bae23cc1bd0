"""Every streamed answer has a cap on its size and on its duration.

An upstream that never stops (a runaway model, a hostile server sending text or keep-alives
forever) must not hold a worker, a connection and a growing answer without end. The caps are
aiadmin settings (aiadmin/conf.py), read on each stream so a test or a host project can change
them:

* ``AIADMIN["STREAM_MAX_CHARS"]`` (default 500,000 characters, above the longest answers
  current models are allowed to give: about 128k tokens),
* ``AIADMIN["STREAM_MAX_SECONDS"]`` (default 600 seconds, room for slow reasoning models).

Past either, the stream ends with :class:`StreamLimitError`, which the service records in the
ledger like any failed call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiadmin.adapters.types import ChatChunk, Usage
from aiadmin.adapters.waits import WaitBound
from aiadmin.conf import aiadmin_settings

from .errors import StreamLimitError


@dataclass(frozen=True, slots=True)
class StreamLimits:
    max_chars: int
    max_seconds: float


def stream_limits_get() -> StreamLimits:
    return StreamLimits(
        max_chars=aiadmin_settings.STREAM_MAX_CHARS,
        max_seconds=float(aiadmin_settings.STREAM_MAX_SECONDS),
    )


async def stream_bounded(
    source: AsyncIterator[ChatChunk | Usage], *, limits: StreamLimits, provider: str | None
) -> AsyncIterator[ChatChunk | Usage]:
    """``source``'s items until it ends, or :class:`StreamLimitError` once the text passes
    ``limits.max_chars`` or ``limits.max_seconds`` have gone by (even if nothing arrives).
    The caller closes ``source``."""
    # One timer for the whole stream, armed only around each wait: a timeout must never fire
    # while the consumer holds the item (that would cancel the consumer's own work).
    deadline = WaitBound(limits.max_seconds, idle=False)
    chars = 0
    try:
        while True:
            try:
                with deadline:
                    item = await anext(source)
            except StopAsyncIteration:
                return
            except TimeoutError:
                if deadline.expired:
                    raise _too_slow(limits, provider) from None
                raise
            if isinstance(item, ChatChunk):
                chars += len(item.text)
                if chars > limits.max_chars:
                    raise StreamLimitError(
                        f"The answer passed {limits.max_chars:,} characters, the most one streamed answer "
                        "may have, and was stopped. Ask for a shorter answer.",
                        provider=provider,
                    )
            yield item
    finally:
        deadline.close()


def _too_slow(limits: StreamLimits, provider: str | None) -> StreamLimitError:
    return StreamLimitError(
        f"The answer took longer than {limits.max_seconds:g} seconds, the most one streamed answer "
        "may take, and was stopped.",
        provider=provider,
    )

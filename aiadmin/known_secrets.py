"""The keys this process holds, for the log filter (aiadmin/logging.py) to remove from records.

A log filter cannot query the database on each record, so it learns the keys from the one
place plaintext comes from: :func:`redact_from_logs` is called with every secret that is
revealed (decrypted) or stored (typed into a form and saved) in this process. A key this
process never revealed or stored is one it never held, so it cannot log it either.

Bounded and expiring, as any structure holding plaintext keys: at most
:data:`MAX_KNOWN_SECRETS` keys, the least recently revealed leaving first, each for at most
:data:`KNOWN_SECRET_SECONDS` after it was last revealed. Every use reveals its key again.

No Django here: the logging configuration imports this module while settings load.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import OrderedDict
from urllib.parse import quote, quote_plus

__all__ = ["KNOWN_SECRET_SECONDS", "MAX_KNOWN_SECRETS", "MIN_SECRET_LENGTH", "known_secrets", "redact_from_logs", "redact_known_secrets"]

# The keys used within a few seconds of each other in one process (plans are rebuilt, so keys
# revealed again, every few seconds): a few hundred providers' and admins' keys.
MAX_KNOWN_SECRETS = 512
# Longer than any stream that uses a key revealed once at its start.
KNOWN_SECRET_SECONDS = 3600.0
# Shorter values are not real provider keys, and removing them from every record would mangle
# the logs (a local server's key "ollama"). Credential headers are redacted whatever their size.
MIN_SECRET_LENGTH = 8
# New keys are searched one by one until this many wait; then all are compiled into one
# pattern (a compile costs milliseconds, tens of them with hundreds of keys).
_UNCOMPILED_MAX = 32

_REDACTED = "[redacted]"


def _spellings(secret: str) -> frozenset[str]:
    """The key as a record may show it: plain, or escaped by repr, bytes repr, JSON or a URL."""
    spellings = {secret, secret.strip(), repr(secret)[1:-1], json.dumps(secret)[1:-1], quote(secret, safe=""), quote_plus(secret)}
    try:
        spellings.add(repr(secret.encode())[2:-1])
    except UnicodeEncodeError:  # lone surrogates: no bytes spelling exists
        pass
    return frozenset(spelling for spelling in spellings if len(spelling) >= MIN_SECRET_LENGTH)


def _trie_pattern(spellings: list[str]) -> str:
    """One alternation for every spelling, common prefixes shared (``sk-(?:abc|xyz)``): a search
    costs about the same for hundreds of keys as for one, where a loop would scan the text once
    per key. At a position the longest spelling wins."""
    trie: dict[str, dict] = {}
    for spelling in spellings:
        node = trie
        for char in spelling:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, dict]) -> str:
        chain = []
        while True:  # a run without branches, iteratively (a key may be thousands of characters)
            chars = [char for char in node if char]
            if len(chars) != 1 or "" in node:
                break
            chain.append(re.escape(chars[0]))
            node = node[chars[0]]
        if not chars:
            return "".join(chain)
        group = "(?:" + "|".join(re.escape(char) + build(node[char]) for char in sorted(chars)) + ")"
        return "".join(chain) + (group + "?" if "" in node else group)

    return build(trie)


class _KnownSecrets:
    """Readers take ``view`` without a lock: it is replaced whole, never changed in place."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[float, frozenset[str]]] = OrderedDict()  # secret -> (expiry, spellings)
        self._uncompiled: dict[str, None] = {}  # secrets added since the last compile, in order
        # The last compile: its pattern, and what it could not compile (searched one by one).
        self._compiled: tuple[re.Pattern[str] | None, frozenset[str]] = (None, frozenset())
        # (the compiled pattern, spellings to search one by one: newer keys, and any left over)
        self.view: tuple[re.Pattern[str] | None, tuple[str, ...]] = (None, ())
        self.next_expiry = float("inf")

    def add(self, secret: str) -> None:
        now = time.monotonic()
        with self._lock:
            known = self._entries.pop(secret, None)
            self._entries[secret] = (now + KNOWN_SECRET_SECONDS, known[1] if known else _spellings(secret))
            self.next_expiry = min(self.next_expiry, now + KNOWN_SECRET_SECONDS)
            if known is not None:
                return
            self._uncompiled[secret] = None
            # An evicted key may stay in the compiled pattern until the next compile: at most
            # _UNCOMPILED_MAX keys beyond the bound, and removing too much is the safe side.
            while len(self._entries) > MAX_KNOWN_SECRETS:
                self._uncompiled.pop(self._entries.popitem(last=False)[0], None)
            if len(self._uncompiled) > _UNCOMPILED_MAX:
                self._compile()
            else:
                self._publish_uncompiled()

    def expire(self) -> None:
        now = time.monotonic()
        with self._lock:
            expired = [secret for secret, (expiry, _) in self._entries.items() if expiry <= now]
            for secret in expired:
                del self._entries[secret]
            self.next_expiry = min((expiry for expiry, _ in self._entries.values()), default=float("inf"))
            if expired:
                self._compile()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.next_expiry = float("inf")
            self._compile()

    def spellings(self) -> frozenset[str]:
        with self._lock:
            return frozenset().union(*(spellings for _, spellings in self._entries.values()))

    def _compile(self) -> None:
        spellings = frozenset().union(*(spellings for _, spellings in self._entries.values()))
        self._uncompiled.clear()
        try:
            self._compiled = (re.compile(_trie_pattern(sorted(spellings))) if spellings else None, frozenset())
        except (RecursionError, re.error, OverflowError):
            # Keys nested hundreds deep ("aaaaaaaaZ", "aaaaaaaaaZ", ...) make too deep a pattern:
            # search them one by one, slower but complete.
            self._compiled = (None, spellings)
        self._publish_uncompiled()

    def _publish_uncompiled(self) -> None:
        pattern, one_by_one = self._compiled
        spellings = one_by_one.union(*(self._entries[secret][1] for secret in self._uncompiled))
        # Longest first, so a key that contains another is removed whole.
        self.view = (pattern, tuple(sorted(spellings, key=len, reverse=True)))


_known = _KnownSecrets()


def redact_from_logs(secret: str | None) -> None:
    """Make the log filter remove ``secret`` from every record from now on."""
    if secret and isinstance(secret, str) and len(secret.strip()) >= MIN_SECRET_LENGTH:
        _known.add(secret)


def known_secrets() -> frozenset[str]:
    """Every spelling of every key the filter currently removes (for tests and checks)."""
    return _known.spellings()


def redact_known_secrets(text: str) -> str:
    """``text`` without any spelling of a key this process holds."""
    known = _known
    if time.monotonic() >= known.next_expiry:
        known.expire()
    pattern, uncompiled = known.view
    if pattern is not None:
        text = pattern.sub(_REDACTED, text)
    for spelling in uncompiled:
        if spelling in text:
            text = text.replace(spelling, _REDACTED)
    return text

"""The one JSON decoder for text that comes from outside (no Django here).

``json.loads`` alone lets a hostile body through in ways that fail later and far away: nesting
deep enough to raise ``RecursionError`` (in the parser or in any code that walks the result),
lone surrogates (``"\\ud800"``) that fail when the text is encoded for the database or a page,
null characters that PostgreSQL text columns refuse, ``NaN``/``Infinity`` and ``1e999``
(which decode to floats no JSON encoder or database accepts), and integers past Python's
4300-digit conversion limit. :func:`loads` refuses all of them up front with one exception,
:class:`UnsafeJSONError`, whose message is a short reason a person can act on.

:class:`SafeJSONDecoder` does the same as a ``json.JSONDecoder`` subclass, for code that takes
a ``cls``/``decoder`` (Django's ``JSONField(decoder=...)``). :class:`UnsafeJSONError`
subclasses ``json.JSONDecodeError``, the exception Django's form and model JSON fields catch.
"""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import Any

# Real payloads (model lists, chat events, settings) nest a handful of levels; a few dozen is
# generous, and far below where recursive code in Python or the C parser gives up.
MAX_DEPTH = 64
# Integers this long are not counts, prices or ids; Python refuses to convert over 4300.
MAX_INT_DIGITS = 100

# A JSON string: quote, then runs of ordinary characters or escapes, then quote (unrolled so
# the regex engine never backtracks).
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
# The only spellings that decode to a null or a surrogate: walking the decoded value is
# needed only when the text has one of them (or raw surrogates, from a str input).
_RISKY_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


class UnsafeJSONError(json.JSONDecodeError):
    """JSON that is malformed or unsafe to use; ``str()`` is the short reason."""

    def __init__(self, reason: str, doc: str = "", pos: int = 0) -> None:
        # JSONDecodeError would append "line 1 column 1 (char 0)": keep the reason readable.
        ValueError.__init__(self, reason)
        self.msg = reason
        self.doc = doc
        self.pos = pos
        self.lineno = doc.count("\n", 0, pos) + 1
        self.colno = pos - doc.rfind("\n", 0, pos)

    def __reduce__(self) -> tuple[Any, ...]:
        return self.__class__, (self.msg, self.doc, self.pos)


def loads(data: bytes | bytearray | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Decode JSON from outside, or raise :class:`UnsafeJSONError` saying what is wrong."""
    text = _text(data)
    depth_check(text, max_depth=max_depth)
    try:
        value = _DECODER.decode(text)
    except UnsafeJSONError:
        raise
    except json.JSONDecodeError as err:
        raise UnsafeJSONError(f"not valid JSON ({err.msg} at line {err.lineno} column {err.colno})") from None
    except RecursionError:  # the pre-scan makes this unreachable; kept as a last guard
        raise UnsafeJSONError("nested too deeply") from None
    if _RISKY_ESCAPE.search(text) or not _encodable(text):
        strings_check(value)
    return value


def _text(data: bytes | bytearray | str) -> str:
    if isinstance(data, str):
        return data
    try:
        # json.detect_encoding: JSON may be UTF-8 (with or without BOM), UTF-16 or UTF-32.
        return bytes(data).decode(json.detect_encoding(data))
    except UnicodeDecodeError:
        raise UnsafeJSONError("not valid UTF-8 text") from None


def _encodable(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def depth_check(text: str, *, max_depth: int = MAX_DEPTH) -> None:
    """Refuse text whose arrays/objects nest deeper than ``max_depth``, in linear time and
    without recursion: strings are cut out, then the brackets left are counted."""
    if text.count("[") + text.count("{") <= max_depth:
        return  # cannot nest deeper than it has openings
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    if brackets and max(accumulate(map(_DEPTH_STEP.__getitem__, brackets))) > max_depth:
        raise UnsafeJSONError(f"nested more than {max_depth} levels deep")


def strings_check(value: Any) -> None:
    """Refuse lone surrogates and null characters in any string or key (iteratively)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            _string_check(item)
        elif isinstance(item, dict):
            for key, child in item.items():
                _string_check(key)
                pending.append(child)
        elif isinstance(item, list):
            pending.extend(item)


def _string_check(text: str) -> None:
    if "\x00" in text:
        raise UnsafeJSONError("contains a null character (\\u0000)")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise UnsafeJSONError("contains a lone surrogate (an invalid \\ud800-\\udfff escape)") from None


def _refuse_constant(name: str) -> float:
    raise UnsafeJSONError(f"contains {name}, which is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise UnsafeJSONError(f"contains a number out of range ({text[:20]})")
    return number


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise UnsafeJSONError(f"contains an integer longer than {MAX_INT_DIGITS} digits")
    return int(text)


# One decoder for every call: json.loads(text, parse_...=...) builds a decoder and its scanner
# each time, which costs as much as decoding a streamed chunk. Decoding shares no state that
# matters between calls (the scanner's memo only interns keys).
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_bounded_int)


class SafeJSONDecoder(json.JSONDecoder):
    """``json.JSONDecoder`` with the checks of :func:`loads`, for ``cls=`` / ``decoder=``."""

    def decode(self, s: str, _w: Any = None) -> Any:  # noqa: ARG002 (signature of the base)
        return loads(s)

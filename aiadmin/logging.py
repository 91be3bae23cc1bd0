"""Keys never reach log output: one filter for the handlers of the logging configuration.

:class:`RedactSecretsFilter` rewrites every record that reaches a handler it is installed on,
whichever logger emitted it (ours, Django's, uvicorn's, httpx's, httpcore's, which at DEBUG
prints raw response headers): the message, the exception text, the stack text and string
extras lose every key this process holds (aiadmin/known_secrets.py), every credential header
value and anything shaped like a key (:func:`aiadmin.adapters.errors.redact_key_shapes`).

No Django here: the logging configuration imports this module while settings load.
"""

from __future__ import annotations

import logging

from aiadmin.adapters.errors import redact_key_shapes
from aiadmin.known_secrets import redact_known_secrets

__all__ = ["RedactSecretsFilter"]

# Attributes every record has; any other string attribute came from ``extra=``, and a
# structured formatter may print it.
_RECORD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__)


def _scrub(text: str) -> str:
    return redact_key_shapes(redact_known_secrets(text))


def _text(value: object) -> str:
    try:
        return value if isinstance(value, str) else str(value)
    except Exception:
        return f"<unprintable {type(value).__name__}>"


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:
        # Logging would report this by printing msg and args raw to stderr: keep them, redacted.
        try:
            arguments = repr(record.args)
        except Exception:
            arguments = "<unprintable arguments>"
        return f"{_text(record.msg)} (log arguments that did not fit the message: {arguments})"


def _exception_text(exc_info: object) -> str:
    try:
        return logging.Formatter().formatException(exc_info)  # type: ignore[arg-type]
    except Exception:  # not a (type, value, traceback) triple
        return _text(exc_info)


class RedactSecretsFilter(logging.Filter):
    """Rewrites each record so no key reaches output; never drops a record and never raises.

    Install it on handlers (``LOGGING["handlers"][name]["filters"]``): a filter on a logger sees
    only that logger's own records, a filter on a handler every record that reaches it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            self._redact(record)
        except Exception:
            # Not expected; if it happens, say so rather than emit what could not be checked.
            record.msg, record.args = "A log record was withheld: it could not be checked for secrets.", ()
            record.exc_info = record.exc_text = record.stack_info = None
        return True

    @staticmethod
    def _redact(record: logging.LogRecord) -> None:
        # Formatted once here; with the arguments cleared, handlers use the text as it is.
        record.msg, record.args = _scrub(_message(record)), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = _exception_text(record.exc_info)
        if record.exc_text:
            record.exc_text = _scrub(_text(record.exc_text))
        # Formatters that read exc_info themselves (JSON formatters, error trackers) would print
        # the traceback unredacted: they get the redacted text only.
        record.exc_info = None
        if record.stack_info:
            record.stack_info = _scrub(_text(record.stack_info))
        attributes = record.__dict__
        if len(attributes) > len(_RECORD_ATTRIBUTES):  # extras, or "message" from an earlier format
            for name in attributes.keys() - _RECORD_ATTRIBUTES:
                if isinstance(attributes[name], str):
                    attributes[name] = _scrub(attributes[name])

"""What carries a provider's key, and where it may go (no Django here).

:func:`auth_headers_and_params` turns a provider's ``auth`` config and key into headers and
query params; :func:`url_origin` tells whether two URLs may receive the same key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigurationError

_HEADER_SAFE_KEY = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces or controls


def auth_headers_and_params(
    auth: Mapping[str, Any] | None, api_key: str | None
) -> tuple[dict[str, str], dict[str, str]]:
    """Headers and query params that carry ``api_key`` according to a provider's auth config.

    Styles: ``{"style": "bearer"}`` (the default when ``auth`` is empty) -> ``Authorization:
    Bearer KEY``; ``{"style": "header", "header": "x-api-key", "prefix": ""}`` -> that header
    with ``prefix + KEY`` (the prefix includes any space it needs); ``{"style": "query",
    "param": "key"}`` -> a query parameter; ``{"style": "none"}`` -> nothing. No key ->
    nothing.

    Prefer headers: a key in a query string is part of the URL, and URLs reach access logs,
    proxies and error messages. The Gemini adapter must use ``{"style": "header", "header":
    "x-goog-api-key"}`` rather than ``?key=``.
    """
    if not api_key:
        return {}, {}
    key = api_key.strip()
    # A newline in a header value would be rejected by h11 with an error that quotes the value.
    if not _HEADER_SAFE_KEY.fullmatch(key):
        raise ConfigurationError(
            "The API key contains spaces or characters that cannot be sent. Enter it again."
        )
    auth = auth or {}
    style = auth.get("style", "bearer")
    if style == "none":
        return {}, {}
    if style == "bearer":
        return {"Authorization": f"Bearer {key}"}, {}
    if style == "header":
        header = auth.get("header") or "x-api-key"
        return {str(header): f"{auth.get('prefix', '')}{key}"}, {}
    if style == "query":
        return {}, {str(auth.get("param") or "key"): key}
    raise ConfigurationError(f"Unknown auth style {style!r} in the provider's settings.")


def url_origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL, default ports filled in; None when it is not
    one. Two URLs with the same origin may receive the same key."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80)

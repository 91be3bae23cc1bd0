"""Reading a request's JSON body and its fields, with OpenAI-style errors naming the field.

Every check raises :class:`~aiadmin.api.errors.APIError` (400) with ``param`` set, so an SDK
user sees which argument to fix. Unknown fields are ignored, as OpenAI-compatible servers do
(clients send fields of newer API versions); fields aiadmin cannot honour and that change the
meaning of a request are refused by the endpoint that knows them.
"""

from __future__ import annotations

import math
from typing import Any

from aiadmin.adapters import safejson

from .errors import bad_request

_MISSING = object()


def json_body(request) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise bad_request("Send the request as JSON (Content-Type: application/json).", code="invalid_content_type")
    try:
        data = safejson.loads(request.body or b"")
    except safejson.UnsafeJSONError as err:
        raise bad_request(f"The request body is not valid JSON: {err.msg}.", code="invalid_json") from None
    if not isinstance(data, dict):
        raise bad_request("The request body must be a JSON object.", code="invalid_json")
    return data


def text_field(
    data: dict[str, Any], name: str, *, required: bool = False, max_length: int | None = None, default: str | None = None
) -> str | None:
    value = data.get(name, _MISSING)
    if value is _MISSING or value is None:
        if required:
            raise bad_request(f"“{name}” is required.", param=name, code="missing_required_parameter")
        return default
    if not isinstance(value, str):
        raise bad_request(f"“{name}” must be a string.", param=name)
    if required and not value.strip():
        raise bad_request(f"“{name}” is empty.", param=name)
    if max_length is not None and len(value) > max_length:
        raise bad_request(f"“{name}” is too long: at most {max_length:,} characters.", param=name)
    return value


def number_field(
    data: dict[str, Any], name: str, *, minimum: float, maximum: float, default: float | None = None
) -> float | None:
    value = data.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise bad_request(f"“{name}” must be a number.", param=name)
    if not minimum <= value <= maximum:
        raise bad_request(f"“{name}” must be between {minimum:g} and {maximum:g}.", param=name)
    return float(value)


def int_field(data: dict[str, Any], name: str, *, minimum: int, maximum: int, default: int | None = None) -> int | None:
    value = data.get(name)
    if value is None:
        return default
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"“{name}” must be a whole number.", param=name)
    if not minimum <= value <= maximum:
        raise bad_request(f"“{name}” must be between {minimum:,} and {maximum:,}.", param=name)
    return value


def bool_field(data: dict[str, Any], name: str, *, default: bool = False) -> bool:
    value = data.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise bad_request(f"“{name}” must be true or false.", param=name)
    return value


def choice_field(data: dict[str, Any], name: str, *, choices: tuple[str, ...], default: str | None = None) -> str | None:
    value = data.get(name)
    if value is None:
        return default
    if not isinstance(value, str) or value not in choices:
        raise bad_request(f"“{name}” must be one of: {', '.join(choices)}.", param=name)
    return value

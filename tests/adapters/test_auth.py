"""Auth styles: how a provider's key is carried, and keys that cannot be sent."""

from __future__ import annotations

import pytest

from aiadmin.adapters.auth import auth_headers_and_params
from aiadmin.adapters.errors import ConfigurationError

CANARY = "sk-canary-0123456789abcdef"


@pytest.mark.parametrize(
    ("auth", "headers", "params"),
    [
        ({"style": "bearer"}, {"Authorization": f"Bearer {CANARY}"}, {}),
        ({}, {"Authorization": f"Bearer {CANARY}"}, {}),
        ({"style": "header", "header": "x-api-key", "prefix": ""}, {"x-api-key": CANARY}, {}),
        ({"style": "header", "header": "x-goog-api-key"}, {"x-goog-api-key": CANARY}, {}),
        ({"style": "header", "header": "Authorization", "prefix": "Token "}, {"Authorization": f"Token {CANARY}"}, {}),
        ({"style": "query", "param": "key"}, {}, {"key": CANARY}),
        ({"style": "none"}, {}, {}),
    ],
)
def test_auth_styles(auth, headers, params):
    assert auth_headers_and_params(auth, CANARY) == (headers, params)


def test_no_key_means_no_auth():
    assert auth_headers_and_params({"style": "bearer"}, None) == ({}, {})
    assert auth_headers_and_params({"style": "header", "header": "x-api-key"}, "") == ({}, {})


def test_pasted_key_with_trailing_newline_is_trimmed():
    assert auth_headers_and_params({}, CANARY + "\n") == ({"Authorization": f"Bearer {CANARY}"}, {})


def test_key_with_inner_newline_is_rejected_without_echoing_it():
    with pytest.raises(ConfigurationError) as excinfo:
        auth_headers_and_params({}, "sk-abc\r\nX-Evil: 1")
    assert "sk-abc" not in str(excinfo.value)


def test_unknown_auth_style_is_a_configuration_error():
    with pytest.raises(ConfigurationError):
        auth_headers_and_params({"style": "carrier-pigeon"}, CANARY)

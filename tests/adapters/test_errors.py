"""redact(): key shapes and credential header values go, ordinary text stays."""

from __future__ import annotations

import pytest

from aiadmin.adapters.errors import redact

VALUE = "opaque-value-4711"  # not shaped like a key


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"Authorization: Bearer {VALUE}", "Authorization: [redacted]"),
        (f"(b'authorization', b'Bearer {VALUE}')", "(b'authorization', b'[redacted]')"),
        (f"(b'X-Api-Key', b'{VALUE}')", "(b'X-Api-Key', b'[redacted]')"),
        (f"{{'x-goog-api-key': '{VALUE}'}}", "{'x-goog-api-key': '[redacted]'}"),
        (f'{{"api-key": "{VALUE}"}}', '{"api-key": "[redacted]"}'),
        (f"GET /v1/models?api_key={VALUE}&limit=5", "GET /v1/models?api_key=[redacted]&limit=5"),
        (f"access_token={VALUE}", "access_token=[redacted]"),
        ("xai-" + "A" * 40, "[redacted]"),
    ],
)
def test_credential_values_go_and_their_names_stay(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "the Authorization header is missing",
        "send an api_key, then retry",
        '"max_tokens": 100, "completion_tokens": 12',
        "model pplx-70b-online and xai-grok",
        "Retry-After: 20",
    ],
)
def test_ordinary_text_is_left_alone(text):
    assert redact(text) == text

"""The URL syntax of provider addresses: Django's URLValidator plus single-label host names."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from aiadmin.providers.endpoint_url import EndpointURLValidator, endpoint_url_problem


@pytest.mark.parametrize(
    "url",
    [
        "http://ollama:11434/v1",
        "http://vllm:8000/v1",
        "http://my-vllm/v1",
        "http://ollama./v1",  # the root's trailing dot
        "http://localhost:1234/v1",
        "https://api.openai.com/v1",
        "http://10.0.0.5/v1",
        "http://[::1]:8000/v1",
        "HTTPS://API.OPENAI.COM/v1",
    ],
)
def test_accepted(url):
    EndpointURLValidator()(url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://exa mple.com", "Enter a valid URL."),
        ("http://-bad-:80", "Enter a valid URL."),
        ("http://bad-/v1", "Enter a valid URL."),
        ("http://1234/v1", "Enter a valid URL."),
        ("http://127.1/v1", "Enter a valid URL."),
        ("http://a..b/v1", "Enter a valid URL."),
        ("http://[::zz]/v1", "Enter a valid URL."),
        ("http:///v1", "Enter a valid URL."),
        ("http://" + "a" * 64 + "/v1", "Enter a valid URL."),  # a label is at most 63 characters
        ("http://ollama\n:11434", "Enter a valid URL."),
        ("ftp://x", "Enter an http:// or https:// address."),
        ("ftp://files.example.com/v1", "Enter an http:// or https:// address."),
        ("javascript://ollama/%0aalert(1)", "Enter an http:// or https:// address."),
        ("ollama:11434/v1", "Enter a valid URL."),
    ],
)
def test_refused(url, message):
    with pytest.raises(ValidationError) as refused:
        EndpointURLValidator()(url)
    assert refused.value.messages == [message]
    assert endpoint_url_problem(url) == message

"""The base URL check when a provider is saved (urlguard.base_url_save_problem): no DNS, only
what the URL itself says."""

from __future__ import annotations

import socket

import pytest

from aiadmin.adapters.urlguard import base_url_save_problem

PRIVATE_OR_LOCAL = [
    "http://127.0.0.1:11434",
    "http://127.1/",  # inet_aton spellings the system resolver connects to as well
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0x7f.0.0.1/",
    "http://0177.0.0.1/",
    "http://127.000.000.001/",
    "http://0/",
    "http://0.0.0.0:8000/",
    "http://10.0.0.5/v1",
    "http://172.16.0.1/",
    "http://192.168.1.20:8080/v1",
    "http://169.254.169.254/latest",  # cloud metadata
    "http://100.64.0.1/",  # shared address space
    "http://[::1]/",
    "http://[0:0:0:0:0:0:0:1]:8000/",
    "http://[::]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[fe80::1%25eth0]/",
    "http://[fd00::5]/v1",
    "http://１２７.０.０.１/",  # fullwidth digits fold to 127.0.0.1
    "http://localhost:8000",
    "http://LOCALHOST./v1",
    "http://%6c%6fcalhost/",
    "http://api.localhost/",
    "http://gpu-box.local:11434/",
    "http://llm.internal/v1",
    "http://ollama.home.arpa/",
    "http://ollama:11434/v1",  # a single-label name: a host on the local network
]


@pytest.mark.parametrize("url", PRIVATE_OR_LOCAL)
def test_private_loopback_and_local_targets_are_refused_without_the_mark(url):
    problem = base_url_save_problem(url, allow_private_network=False)
    assert problem is not None and '"allow_private_network": true' in problem


@pytest.mark.parametrize("url", PRIVATE_OR_LOCAL)
def test_the_self_hosted_mark_allows_them(url):
    assert base_url_save_problem(url, allow_private_network=True) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://api.openai.com/v1",
        "https://openrouter.ai/api/v1",
        "http://93.184.215.14/v1",
        "https://[2606:4700:4700::1111]/",
        "https://{resource}.openai.azure.com/openai/v1",  # a catalogue placeholder: refused at call time
        "https://local.example.com/v1",  # "local" as a label, not the suffix
        "",
    ],
)
def test_public_targets_pass(url):
    assert base_url_save_problem(url, allow_private_network=False) is None


@pytest.mark.parametrize("url", ["ftp://files.example.com/", "file:///etc/passwd", "gopher://x.example/", "//api.example.com", "api.example.com/v1"])
@pytest.mark.parametrize("mark", [False, True])
def test_other_schemes_are_refused_even_with_the_mark(url, mark):
    assert base_url_save_problem(url, allow_private_network=mark) == "The base URL must be an http:// or https:// address."


def test_a_bad_port_is_a_clear_problem():
    assert base_url_save_problem("http://api.example.com:99999/", allow_private_network=False) == (
        "Enter a valid http:// or https:// address."
    )


def test_the_message_names_the_address_as_a_resolver_reads_it():
    problem = base_url_save_problem("http://0x7f.1:11434/v1", allow_private_network=False)
    assert "127.0.0.1" in problem and "self-hosted" in problem


def test_no_name_is_looked_up(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a save-time check must not ask a resolver")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "gethostbyname", refuse)
    assert base_url_save_problem("https://api.example.com/v1", allow_private_network=False) is None
    assert base_url_save_problem("http://ollama:11434", allow_private_network=False) is not None

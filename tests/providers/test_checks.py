"""The deploy check that every log handler carries the secret-redacting filter."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from aiadmin.logging import RedactSecretsFilter
from aiadmin.providers.checks import check_log_handlers_redact_secrets


class HostHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        pass


@pytest.fixture
def host_logger() -> Iterator[logging.Logger]:
    logger = logging.getLogger("host.project.audit")
    handler = HostHandler()
    logger.addHandler(handler)
    try:
        yield logger
    finally:
        logger.removeHandler(handler)


def messages() -> str:
    return " ".join(warning.msg for warning in check_log_handlers_redact_secrets(None))


def test_a_host_handler_without_the_filter_is_named_by_the_deploy_check(host_logger):
    assert "HostHandler on host.project.audit" in messages()
    assert [warning.id for warning in check_log_handlers_redact_secrets(None)] == ["aiadmin.W011"]


def test_a_host_handler_with_the_filter_passes(host_logger):
    host_logger.handlers[0].addFilter(RedactSecretsFilter())
    assert "host.project.audit" not in messages()

"""Readable log lines that never carry a join token, a password or a credential."""

from __future__ import annotations

import io
import logging

import pytest
from django.urls import reverse

from config.logging import KeyValueFormatter, RedactSecretsFilter


@pytest.fixture
def log_output():
    """Capture what the configured console handler would write."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(KeyValueFormatter())
    handler.addFilter(RedactSecretsFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)


@pytest.mark.django_db
def test_access_log_redacts_the_join_token(client, participant, log_output):
    client.get(reverse("workshops:join", kwargs={"token": participant.token}))
    client.get(reverse("workshops:join", kwargs={"token": "unknown-token-value-123456"}))
    output = log_output.getvalue()
    assert "path=/j/[redacted]/" in output
    assert "status=302" in output and "status=404" in output
    assert participant.token not in output
    assert "unknown-token-value-123456" not in output


@pytest.mark.django_db
def test_access_log_redacts_report_share_tokens_and_join_codes(client, log_output):
    client.get("/r/aJUA6XVWFdPjVTFULaesoHHFeJGG8SC8/")
    client.get("/c/K7P2QX/")
    output = log_output.getvalue()
    assert "path=/r/[redacted]/" in output and "path=/c/[redacted]/" in output
    assert "aJUA6XVWFdPjVTFULaesoHHFeJGG8SC8" not in output and "K7P2QX" not in output


def test_secrets_in_messages_and_urls_are_redacted(log_output):
    logger = logging.getLogger("kehittamo.test")
    logger.warning("connecting to %s", "redis://admin:hunter2@127.0.0.1:6379/0")
    logger.warning("login failed password=hunter3 token=abc123def")
    try:
        raise ValueError("bad link /j/SeCrEtToKeN-1234567890/")
    except ValueError:
        logger.exception("join failed")
    output = log_output.getvalue()
    for secret in ("hunter2", "hunter3", "abc123def", "SeCrEtToKeN-1234567890"):
        assert secret not in output
    assert "redis://admin:[redacted]@127.0.0.1" in output
    assert "WARNING kehittamo.test connecting to" in output
    assert "ValueError" in output


def test_configured_console_handler_uses_the_redacting_filter():
    handlers = [h for h in logging.getLogger().handlers if isinstance(h.formatter, KeyValueFormatter)]
    assert handlers, "the console handler from settings.LOGGING is installed"
    assert any(isinstance(f, RedactSecretsFilter) for f in handlers[0].filters)

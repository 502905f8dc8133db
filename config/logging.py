"""Readable key=value log lines with secrets redacted before they are written."""

from __future__ import annotations

import logging
import re

# Personal join links carry their token in the path; session ids and passwords
# must never reach a log either.
_PATTERNS = [
    (re.compile(r"(/j/)[A-Za-z0-9_\-]{8,}"), r"\1[redacted]"),
    # the report's share link and a join code opened from its QR code are keys to a workshop too
    (re.compile(r"(/r/)[A-Za-z0-9_\-]{8,}"), r"\1[redacted]"),
    (re.compile(r"(/c/)[^/\s?]+"), r"\1[redacted]"),
    (
        re.compile(r"((?:token|key|password|sessionid|csrftoken)[\"']?\s*[=:]\s*[\"']?)[^\s&\"',;]+", re.I),
        r"\1[redacted]",
    ),
    (re.compile(r"(/account/confirm-email/)[^/\s]+"), r"\1[redacted]"),
    (re.compile(r"(/account/password/reset/key/)[^/\s]+"), r"\1[redacted]"),
    (re.compile(r"(://[^:/\s]+:)[^@/\s]+@"), r"\1[redacted]@"),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecretsFilter(logging.Filter):
    """Rewrite the record's message so tokens and credentials never leave the process."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg = cleaned
            record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class KeyValueFormatter(logging.Formatter):
    """``2026-11-23T10:00:00+0200 INFO logger message key=value`` — greppable and human."""

    def __init__(self) -> None:
        super().__init__(datefmt="%Y-%m-%dT%H:%M:%S%z")

    def format(self, record: logging.LogRecord) -> str:
        line = f"{self.formatTime(record, self.datefmt)} {record.levelname:<7} {record.name} {record.getMessage()}"
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            line += "".join(f" {key}={value}" for key, value in extra.items())
        if record.exc_text:
            line += "\n" + record.exc_text
        elif record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return redact(line)

"""Keeping credentials out of every log line, exception and timeline entry.

A :class:`Redactor` knows the secrets of one configured integration and replaces each
with `***` in any text; :class:`RedactingFilter` does the same to log records of the
`httpx` and `integrations` loggers, for every secret any integration registered.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import ClassVar

MASK = "***"
MIN_SECRET = 4
"""Shorter "secrets" are left alone: masking every `a` of a log line helps nobody."""


class Redactor:
    """Replaces known secrets in text."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = sorted({s for s in secrets if len(s) >= MIN_SECRET}, key=len, reverse=True)
        RedactingFilter.remember(self._secrets)

    def add(self, secret: str) -> None:
        """Also mask `secret` (a token obtained at run time)."""
        if len(secret) >= MIN_SECRET and secret not in self._secrets:
            self._secrets.append(secret)
            self._secrets.sort(key=len, reverse=True)
            RedactingFilter.remember([secret])

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return text


class RedactingFilter(logging.Filter):
    """Masks every secret an integration registered in the records it passes."""

    _known: ClassVar[set[str]] = set()

    @classmethod
    def remember(cls, secrets: Iterable[str]) -> None:
        cls._known.update(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._known:
            return True
        message = record.getMessage()
        for secret in sorted(self._known, key=len, reverse=True):
            message = message.replace(secret, MASK)
        record.msg, record.args = message, None
        return True


def install_log_redaction() -> None:
    """Put the filter on the loggers that see integration traffic (idempotent)."""
    for name in ("httpx", "httpcore", "integrations", "asyncssh"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())


install_log_redaction()

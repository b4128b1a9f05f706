"""How an integration says a call did not work, in words a person can act on.

Two families, because Temporal must treat them differently:

- :class:`PermanentError` — retrying the same call cannot help (credentials refused,
  access denied, a target that does not exist, a request the vendor rejects). The
  activity fails at once, and the timeline says why, once.
- :class:`TransientError` — the vendor is busy, down or slow. The activity is retried;
  :class:`RateLimited` carries the vendor's own wait so the retry waits exactly that.

Messages never hold a secret: integrations build them from redacted text
(`integrations.core.redaction`).
"""

from __future__ import annotations


class IntegrationError(Exception):
    """A call to a configured integration did not work. `integration` is its configured
    name; the message says what happened in plain words."""

    def __init__(self, integration: str, message: str, *, status: int | None = None) -> None:
        super().__init__(f"{integration}: {message}")
        self.integration = integration
        self.reason = message
        self.status = status


class PermanentError(IntegrationError):
    """Retrying cannot help until a person changes something."""


class CredentialsRejected(PermanentError):
    """The vendor refused the credentials (HTTP 401, or its own word for it)."""


class AccessDenied(PermanentError):
    """The credentials are valid but may not do this (HTTP 403)."""


class TargetNotFound(PermanentError):
    """The host, user or object the command names does not exist at the vendor."""


class RequestRejected(PermanentError):
    """The vendor rejected the request itself (a 4xx, or an error inside a 200 body)."""


class TransientError(IntegrationError):
    """The vendor is busy, down or slow: the same call may work later."""


class RateLimited(TransientError):
    """The vendor asked us to wait `retry_after` seconds before calling again."""

    def __init__(self, integration: str, message: str, *, retry_after: float) -> None:
        super().__init__(integration, message, status=429)
        self.retry_after = retry_after


class IntegrationConfigError(ValueError):
    """A configured integration cannot be built: the message names each setting
    (`actuators.edge.options.host`) and what is wrong, never a value."""

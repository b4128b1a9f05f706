"""Integration errors as Temporal must see them, for every activity that calls a vendor.

- A permanent error (:class:`~soar.integrations.errors.PermanentError`) is a
  non-retryable `ApplicationError`: the step fails once, and its message — the
  integration's configured name, then what went wrong — is what the timeline shows. A
  refused credential says "credentials rejected" in so many words.
- A rate limit is a retryable `ApplicationError` whose `next_retry_delay` is the
  vendor's own wait, so the retry neither hammers the vendor nor waits longer than asked.
- Any other vendor failure is retryable under the workflow's retry policy.

Messages come from the integration errors, which hold no secret.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

from temporalio.exceptions import ApplicationError

from soar.integrations.errors import (
    CredentialsRejected,
    IntegrationError,
    PermanentError,
    RateLimited,
)

CREDENTIALS_REJECTED = "CredentialsRejected"
"""The `ApplicationError` type of a refused credential."""
MIN_RETRY_DELAY = 1.0


def activity_failure(error: IntegrationError) -> ApplicationError:
    """The `ApplicationError` an activity raises for `error` (see the module)."""
    if isinstance(error, CredentialsRejected):
        return ApplicationError(
            f"{error.integration}: credentials rejected: {error.reason}",
            type=CREDENTIALS_REJECTED,
            non_retryable=True,
        )
    if isinstance(error, PermanentError):
        return ApplicationError(str(error), type=type(error).__name__, non_retryable=True)
    if isinstance(error, RateLimited):
        return ApplicationError(
            str(error),
            type="RateLimited",
            next_retry_delay=timedelta(seconds=max(error.retry_after, MIN_RETRY_DELAY)),
        )
    return ApplicationError(str(error), type=type(error).__name__)


@contextlib.asynccontextmanager
async def reported_to_temporal() -> AsyncIterator[None]:
    """Run a vendor call, raising any integration error as :func:`activity_failure`."""
    try:
        yield
    except IntegrationError as error:
        raise activity_failure(error) from error

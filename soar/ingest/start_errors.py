"""Tell a Temporal that is away from a Temporal that refuses.

Delivering alerts to their case (a signal-with-start) can fail two ways. Temporal may
be unreachable or overloaded: trying the same delivery later will work, so the alert
waits in the spool. Or Temporal answers and refuses it (a namespace that does not
exist, missing permissions, a payload over its limit): the same delivery will be
refused again until an operator fixes the cause, so the alert is parked instead of
blocking every alert behind it.
"""

from __future__ import annotations

from temporalio.service import RPCError, RPCStatusCode

RETRYABLE_STATUSES = frozenset(
    {
        RPCStatusCode.UNAVAILABLE,
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.RESOURCE_EXHAUSTED,
        RPCStatusCode.ABORTED,
        RPCStatusCode.UNKNOWN,
        RPCStatusCode.INTERNAL,
        RPCStatusCode.CANCELLED,
    }
)


def is_refusal(error: BaseException) -> bool:
    """Whether Temporal answered and refused, so retrying the same start cannot help.

    Errors that are not RPC answers (connection refused, timeouts) mean Temporal was
    not reached, and are retryable.
    """
    return isinstance(error, RPCError) and error.status not in RETRYABLE_STATUSES


def describe(error: BaseException) -> str:
    """One line for logs, the spool and the operator: the gRPC status name when Temporal
    answered, the exception type otherwise."""
    if isinstance(error, RPCError):
        return f"{error.status.name}: {error.message}"
    return f"{type(error).__name__}: {error}"

"""Which start errors wait in the spool (Temporal away) and which are parked (refused)."""

from __future__ import annotations

import pytest
from temporalio.service import RPCError, RPCStatusCode

from soar.ingest.start_errors import describe, is_refusal

AWAY = [
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.RESOURCE_EXHAUSTED,
    RPCStatusCode.ABORTED,
    RPCStatusCode.UNKNOWN,
    RPCStatusCode.INTERNAL,
    RPCStatusCode.CANCELLED,
]
REFUSED = [
    RPCStatusCode.INVALID_ARGUMENT,
    RPCStatusCode.FAILED_PRECONDITION,
    RPCStatusCode.PERMISSION_DENIED,
    RPCStatusCode.NOT_FOUND,
    RPCStatusCode.UNAUTHENTICATED,
    RPCStatusCode.UNIMPLEMENTED,
]


@pytest.mark.parametrize("status", AWAY)
def test_temporal_away_or_overloaded_is_retryable(status: RPCStatusCode) -> None:
    assert not is_refusal(RPCError("try later", status, b""))


@pytest.mark.parametrize("status", REFUSED)
def test_an_answer_refusing_the_start_is_a_refusal(status: RPCStatusCode) -> None:
    assert is_refusal(RPCError("no", status, b""))


@pytest.mark.parametrize(
    "error", [RuntimeError("Failed client connect: Connection refused"), TimeoutError()]
)
def test_errors_that_never_reached_temporal_are_retryable(error: Exception) -> None:
    assert not is_refusal(error)


def test_describe_names_the_status_or_the_exception() -> None:
    refusal = RPCError("no mapping for Source", RPCStatusCode.INVALID_ARGUMENT, b"")
    assert describe(refusal) == "INVALID_ARGUMENT: no mapping for Source"
    assert describe(RuntimeError("connect")) == "RuntimeError: connect"

"""The ticket and page models: case ids that every vendor takes as they are, the draft
an `OpenTicket` carries, pages keyed by the case id, and vendor text made plain and cut
with a mark (soar.integrations.text)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from soar.alerts.models import Observable, ObservableType, Severity
from soar.integrations.errors import (
    AccessDenied,
    CredentialsRejected,
    RateLimited,
    TransientError,
)
from soar.integrations.failures import activity_failure
from soar.integrations.text import clipped, one_line, plain
from soar.paging.models import PageAction, PageRequest
from soar.tickets.models import OpenTicket, TicketComment, TicketDraft


@pytest.mark.parametrize(
    "case_id", ["case-1f2e3d4c5b6a79880a1b2c3d-1a2b3c4d", "crash-abc", "a", "x.y:z_1"]
)
def test_product_case_ids_are_taken(case_id: str) -> None:
    assert TicketDraft(case_id=case_id, title="t").case_id == case_id


@pytest.mark.parametrize(
    "case_id", ["", "a b", 'x" OR labels = "y', "inc^active=true", "-leading", "x" * 201]
)
def test_a_case_id_a_vendor_would_read_as_syntax_is_refused(case_id: str) -> None:
    with pytest.raises(ValidationError):
        TicketDraft(case_id=case_id, title="t")
    with pytest.raises(ValidationError):
        TicketComment(system="jira", case_id=case_id, text="closed")


def test_open_ticket_carries_the_whole_draft() -> None:
    observable = Observable(type=ObservableType.IP, value="203.0.113.7")
    request = OpenTicket(
        system="jira",
        case_id="case-1",
        title="Ransomware",
        description="isolated",
        severity=Severity.CRITICAL,
        observables=[observable],
        case_url="https://soar.example.org/cases/case-1",
    )
    assert request.draft() == TicketDraft(
        case_id="case-1",
        title="Ransomware",
        description="isolated",
        severity=Severity.CRITICAL,
        observables=[observable],
        case_url="https://soar.example.org/cases/case-1",
    )
    assert OpenTicket.model_validate_json(request.model_dump_json()) == request


def test_a_page_is_keyed_by_the_case_id_and_a_trigger_says_what() -> None:
    acknowledge = PageRequest(pager="oncall", action=PageAction.ACKNOWLEDGE, case_id="case-1")
    assert acknowledge.event().dedup_key == "case-1"
    assert acknowledge.event().summary == ""
    with pytest.raises(ValidationError, match="a trigger needs a summary"):
        PageRequest(pager="oncall", action=PageAction.TRIGGER, case_id="case-1")


def test_vendor_text_is_plain_and_cut_with_a_mark() -> None:
    assert one_line("a\n\tb\u202e  c\u200b", 100) == "a b c"
    assert plain("a\r\nb\u0007", 100) == "a\nb"
    assert clipped("abcdef", 4) == "abc…" and len(clipped("x" * 500, 255)) == 255
    assert clipped("abc", 3) == "abc"


def test_integration_errors_become_what_temporal_must_do() -> None:
    refused = activity_failure(CredentialsRejected("jira", "create an issue: refused (401)"))
    assert (refused.type, refused.non_retryable) == ("CredentialsRejected", True)
    assert refused.message == "jira: credentials rejected: create an issue: refused (401)"
    denied = activity_failure(AccessDenied("jira", "may not (403)"))
    assert (denied.type, denied.non_retryable) == ("AccessDenied", True)
    limited = activity_failure(RateLimited("jira", "busy", retry_after=42))
    assert not limited.non_retryable and limited.next_retry_delay is not None
    assert limited.next_retry_delay.total_seconds() == 42
    brief = activity_failure(RateLimited("jira", "busy", retry_after=0))
    assert brief.next_retry_delay is not None and brief.next_retry_delay.total_seconds() == 1
    down = activity_failure(TransientError("jira", "503"))
    assert (down.type, down.non_retryable, down.next_retry_delay) == ("TransientError", False, None)

"""What a page is to the product, whichever pager carries it.

A case is one alert at the pager: its dedup key is the case id, so triggering it again
(a retried step, a repeated escalation level) adds to the same alert instead of waking
someone twice, and the acknowledgement and the resolution of the case reach that alert.

Plain pydantic models and the activity name: workflow code imports this module.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from soar.alerts.models import Severity
from soar.tickets.models import CaseId, SystemName

PAGE = "paging.page"
"""Activity: send a page (:class:`PageRequest` → :class:`PageReceipt`)."""

MAX_SUMMARY = 4000
"""The longest summary a page carries; each pager cuts it to its own limit."""
MAX_LINKS = 10
MAX_DETAILS = 50


class PageAction(StrEnum):
    """What a page does to the case's alert at the pager."""

    TRIGGER = "trigger"
    """Open the alert (or add to the open one): someone is notified."""
    ACKNOWLEDGE = "acknowledge"
    """Someone is on it: no more notifications."""
    RESOLVE = "resolve"
    """The case is closed: the alert is resolved."""


class PageLink(BaseModel):
    """A link shown on the alert (the case's page, the ticket)."""

    model_config = ConfigDict(frozen=True)

    href: str = Field(min_length=1, max_length=2000)
    text: str = Field(default="", max_length=300)


class PageEvent(BaseModel):
    """One event to a pager. `dedup_key` names the alert it opens or changes; a trigger
    carries what the on-call reads, the other actions only the key."""

    model_config = ConfigDict(frozen=True)

    action: PageAction
    dedup_key: str = Field(min_length=1, max_length=255)
    summary: str = Field(default="", max_length=MAX_SUMMARY)
    severity: Severity = Severity.HIGH
    links: list[PageLink] = Field(default_factory=list, max_length=MAX_LINKS)
    details: dict[str, str] = Field(default_factory=dict, max_length=MAX_DETAILS)

    @model_validator(mode="after")
    def _trigger_says_what(self) -> Self:
        if self.action is PageAction.TRIGGER and not self.summary.strip():
            raise ValueError("a trigger needs a summary")
        return self


class PageRequest(BaseModel):
    """The `paging.page` input: which configured pager (`[paging.<name>]`), what to do to
    the case's alert, and everything a trigger shows (the activity reads no store)."""

    pager: SystemName
    action: PageAction
    case_id: CaseId
    summary: str = Field(default="", max_length=MAX_SUMMARY)
    severity: Severity = Severity.HIGH
    links: list[PageLink] = Field(default_factory=list, max_length=MAX_LINKS)
    details: dict[str, str] = Field(default_factory=dict, max_length=MAX_DETAILS)

    @model_validator(mode="after")
    def _trigger_says_what(self) -> Self:
        if self.action is PageAction.TRIGGER and not self.summary.strip():
            raise ValueError("a trigger needs a summary")
        return self

    def event(self) -> PageEvent:
        """The event, keyed by the case id."""
        return PageEvent(
            action=self.action,
            dedup_key=self.case_id,
            summary=self.summary,
            severity=self.severity,
            links=self.links,
            details=self.details,
        )


class PageReceipt(BaseModel):
    """What the pager answered: which pager and vendor, what was done to which alert,
    and the vendor's words ("Event processed")."""

    pager: str
    vendor: str
    action: PageAction
    dedup_key: str
    message: str = ""

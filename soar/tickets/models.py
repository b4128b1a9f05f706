"""What a ticket is to the product, whichever vendor keeps it.

A case has at most one ticket per configured ticket system. The case id is the
ticket's correlation id at the vendor (a Jira label, ServiceNow's `correlation_id`,
TheHive's `sourceRef`), so the ticket of a case is found again by asking the vendor —
which is how opening stays idempotent when a step is retried or a worker dies between
the vendor creating the ticket and the workflow hearing of it.

Text is plain: every vendor shows a draft's title, description and comments literally
(Jira as text nodes, ServiceNow as plain text, TheHive with Markdown escaped), so
nothing an alert carries is read as markup anywhere.

Plain pydantic models and activity names: workflow code imports this module.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from soar.alerts.models import Observable, Severity
from soar.enrichment.models import Tlp

OPEN_TICKET = "tickets.open"
"""Activity: the case's ticket in a system, opened unless it exists
(:class:`OpenTicket` → :class:`TicketRef`)."""
COMMENT_TICKET = "tickets.comment"
"""Activity: a comment on a case's ticket, once (:class:`TicketComment` →
:class:`TicketCommented`)."""

MAX_TITLE = 300
MAX_DESCRIPTION = 30_000
MAX_COMMENT = 10_000
MAX_OBSERVABLES = 100

CaseId = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$",
        description="The case id: letters, digits and . _ : - only, so it can be a Jira "
        "label, a ServiceNow query value and a TheHive sourceRef without escaping.",
    ),
]
SystemName = Annotated[str, Field(min_length=1, max_length=100)]


class TicketDraft(BaseModel):
    """What a ticket is opened with. `case_id` is the vendor's correlation id;
    `case_url` the case's page in the product, linked from the ticket."""

    model_config = ConfigDict(frozen=True)

    case_id: CaseId
    title: str = Field(min_length=1, max_length=MAX_TITLE)
    description: str = Field(default="", max_length=MAX_DESCRIPTION)
    severity: Severity = Severity.MEDIUM
    tlp: Tlp = Tlp.AMBER
    observables: list[Observable] = Field(default_factory=list, max_length=MAX_OBSERVABLES)
    case_url: str | None = Field(default=None, max_length=2000)


class TicketRef(BaseModel):
    """A case's ticket: in which configured system (`system`, its name in `[tickets]`),
    at which vendor, its key there (Jira `SEC-12`, ServiceNow `INC0010001`, TheHive
    `~4096`), where people open it, and whether this call created it (False: it was
    there already)."""

    model_config = ConfigDict(frozen=True)

    system: str
    vendor: str
    key: str
    url: str
    created: bool


class OpenTicket(TicketDraft):
    """The `tickets.open` input: the draft, and the configured system to open it in. It
    carries all the case text the ticket needs, so the activity reads no store."""

    system: SystemName

    def draft(self) -> TicketDraft:
        """The draft without the system's name."""
        return TicketDraft.model_validate(self.model_dump(exclude={"system"}))


class TicketComment(BaseModel):
    """The `tickets.comment` input: `text` added to the ticket `key` of the case in
    `system`. Without a `key` (a case that never heard back from the vendor), the ticket
    is found by the case id."""

    system: SystemName
    key: str | None = Field(default=None, min_length=1, max_length=200)
    case_id: CaseId
    text: str = Field(min_length=1, max_length=MAX_COMMENT)


class TicketCommented(BaseModel):
    """What `tickets.comment` did: on which ticket, and whether the comment was added now
    (False: the ticket had it already — a retried step)."""

    system: str
    key: str
    added: bool

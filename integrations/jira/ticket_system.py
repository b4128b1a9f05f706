"""Jira Cloud issues as the tickets of cases.

A case's issue carries the label `<label_prefix><case id>` (`soar-case-1f…`): finding
the case's issue is a JQL search for that label in the project, which every retry of
opening asks first. Jira has no idempotent create, so the search is the only guard.
Jira's search is eventually consistent — an issue created a moment ago may be missing
from it for that moment — while a step whose worker died is retried only after the
step's timeout, by which time the issue is found.

The summary is the case's title on one line, cut to Jira's 255 characters. The
description is an ADF document: the case's description as paragraphs, the severity and
marking, the observables as a list and a link to the case. Comments are ADF too; one
whose text the issue already has is not added again.
"""

from __future__ import annotations

from typing import Any

from integrations.jira import adf
from integrations.jira.client import JiraClient
from integrations.jira.options import JiraOptions
from soar.integrations.text import one_line, plain
from soar.tickets.models import TicketDraft, TicketRef

VENDOR = "Jira Cloud"
MAX_SUMMARY = 255
MAX_TEXT = 30_000
"""Jira's description and comment fields hold 32,767 characters; room is left for the
rest of the document."""
COMMENTS_READ = 100
"""How many of the newest comments are compared before one is added."""


def jql_string(value: str) -> str:
    """`value` as a quoted JQL string."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def describe(draft: TicketDraft) -> dict[str, Any]:
    """The draft's description as an ADF document."""
    facts = f"Severity: {draft.severity.value} · Marking: {draft.tlp.label}"
    observables = [
        one_line(f"{o.type.value} {o.value} ({o.role.value})", 500) for o in draft.observables
    ]
    case = (
        adf.paragraph(adf.text("Open the case", href=draft.case_url))
        if draft.case_url and draft.case_url.startswith(("https://", "http://"))
        else {}
    )
    return adf.document(
        *adf.paragraphs(plain(draft.description, MAX_TEXT)),
        adf.paragraph(adf.text(facts)),
        adf.paragraph(adf.text("Observables", strong=True)) if observables else {},
        adf.bullets(observables),
        case,
        adf.paragraph(adf.text(f"Opened by SOAR for case {draft.case_id}.")),
    )


class JiraTicketSystem:
    """Cases' issues in one Jira Cloud project."""

    vendor = VENDOR

    def __init__(self, name: str, options: JiraOptions) -> None:
        self.name = name
        self.options = options
        self.client = JiraClient(name, options)

    async def aclose(self) -> None:
        await self.client.aclose()

    def label(self, case_id: str) -> str:
        """The label that marks the case's issue."""
        return f"{self.options.label_prefix}{case_id}"

    async def find(self, case_id: str) -> TicketRef | None:
        label = self.label(case_id)
        jql = (
            f"project = {jql_string(self.options.project)} AND labels = {jql_string(label)} "
            "ORDER BY created ASC"
        )
        for issue in await self.client.search(jql, fields=["summary", "labels"], limit=10):
            fields = issue.get("fields") or {}
            if label in (fields.get("labels") or []) and issue.get("key"):
                return self._ref(str(issue["key"]), created=False)
        return None

    async def open(self, draft: TicketDraft) -> TicketRef:
        fields: dict[str, Any] = {
            "project": {"key": self.options.project},
            "issuetype": {"name": self.options.issue_type},
            "summary": one_line(draft.title, MAX_SUMMARY),
            "description": describe(draft),
            "labels": [self.label(draft.case_id), *self.options.labels],
        }
        priority = self.options.priorities.get(draft.severity)
        if priority:
            fields["priority"] = {"name": priority}
        created = await self.client.create_issue(fields)
        return self._ref(str(created["key"]), created=True)

    async def comment(self, key: str, text: str) -> bool:
        body = adf.document(*adf.paragraphs(plain(text, MAX_TEXT)))
        wanted = adf.words(body)
        for existing in await self.client.comments(key, limit=COMMENTS_READ):
            shown = existing.get("body")
            if isinstance(shown, dict) and adf.words(shown) == wanted:
                return False
        await self.client.add_comment(key, body)
        return True

    def _ref(self, key: str, *, created: bool) -> TicketRef:
        return TicketRef(
            system=self.name,
            vendor=VENDOR,
            key=key,
            url=f"{self.options.browse_root}/{key}",
            created=created,
        )


async def check(name: str, options: JiraOptions) -> list[str]:
    """Have the token accepted and the project read, changing nothing."""
    client = JiraClient(name, options)
    try:
        account = await client.myself()
        project = await client.project(options.project)
    finally:
        await client.aclose()
    who = account.get("displayName") or account.get("accountId")
    email = account.get("emailAddress")
    return [
        f"reached {options.base_url}",
        f"token accepted: it acts as {who}" + (f" ({email})" if email else ""),
        f"project {project.get('key')} ({project.get('name')}) can be read; cases' issues "
        f"are opened there as {options.issue_type}",
    ]

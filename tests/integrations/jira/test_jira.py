"""The Jira Cloud ticket system against the Jira emulator over real HTTP: the ticket
system contract, then Jira's own ways — the issue's fields (one-line summary cut to 255
characters, the case label, the ADF description showing hostile text literally, the
priority when mapped), the JQL search, comments read back whatever nodes Jira split them
into, Jira's field errors, 429 with Retry-After, the check, the descriptor, and no
secret (the Basic credentials included) in any error or log line."""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError

from integrations.jira import INTEGRATION, JiraOptions, JiraTicketSystem
from integrations.jira.ticket_system import check
from soar.alerts.models import Observable, ObservableRole, ObservableType, Severity
from soar.enrichment.models import Tlp
from soar.integrations.errors import (
    CredentialsRejected,
    IntegrationError,
    RequestRejected,
    TargetNotFound,
)
from soar.runtime.integrations import installed, options_of
from soar.testing.contract import TicketSystemContract
from soar.testing.emulators.jira import JiraEmulator
from soar.tickets.activities import TicketActivities
from soar.tickets.models import OpenTicket, TicketComment, TicketDraft
from soar.tickets.systems import TicketSystemRegistry

BAD_TOKEN = "ATATT-not-the-right-token-for-tests"
HOSTILE = "{{ 7*7 }} <script>alert(1)</script> *bold* [click](https://evil.example) @here"


def options(jira: JiraEmulator, **extra: object) -> JiraOptions:
    settings: dict[str, object] = {
        "base_url": jira.base_url,
        "email": jira.email,
        "api_token": jira.token,
        "project": "SEC",
        "max_wait_seconds": 5,
        "web_url": "https://acme.atlassian.net",
    }
    settings.update(extra)
    return JiraOptions.model_validate(settings)


@pytest.fixture
async def emulator() -> AsyncIterator[JiraEmulator]:
    jira = JiraEmulator(projects={"SEC": "Security", "IT": "IT Operations"})
    jira.secrets.append(BAD_TOKEN)
    async with jira:
        yield jira


@pytest.fixture
async def system(emulator: JiraEmulator) -> AsyncIterator[JiraTicketSystem]:
    made = JiraTicketSystem("jira-sec", options(emulator))
    yield made
    await made.aclose()


@pytest.fixture
async def bad_credentials_system(emulator: JiraEmulator) -> AsyncIterator[JiraTicketSystem]:
    made = JiraTicketSystem("jira-sec", options(emulator, api_token=BAD_TOKEN))
    yield made
    await made.aclose()


@pytest.fixture
def draft() -> TicketDraft:
    return TicketDraft(
        case_id=f"case-{uuid.uuid4().hex[:24]}-{uuid.uuid4().hex[:8]}",
        title="Ransomware on ws-01",
        description="Mass file renames on ws-01.\nThe host was isolated.\n\nNext: reimage.",
        severity=Severity.CRITICAL,
        tlp=Tlp.AMBER,
        observables=[
            Observable(type=ObservableType.HOSTNAME, value="ws-01", role=ObservableRole.HOST),
            Observable(type=ObservableType.IP, value="203.0.113.7", role=ObservableRole.SOURCE),
        ],
        case_url="https://soar.example.org/cases/x",
    )


class TestJiraContract(TicketSystemContract):
    """The contract every ticket system keeps, on one Jira project."""


def text_nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    if node.get("type") == "text":
        return [node]
    content = node.get("content")
    children = content if isinstance(content, list) else []
    return [t for child in children if isinstance(child, dict) for t in text_nodes(child)]


def links(document: dict[str, Any]) -> list[str]:
    """The href of every link in a document."""
    return [
        mark["attrs"]["href"]
        for node in text_nodes(document)
        for mark in node.get("marks") or []
        if mark["type"] == "link"
    ]


async def test_the_issue_carries_the_case_label_a_one_line_summary_and_an_adf_description(
    emulator: JiraEmulator, system: JiraTicketSystem, draft: TicketDraft
) -> None:
    long_title = "Ransomware\non ws-01\u202e " + "x" * 400
    opened = await system.open(draft.model_copy(update={"title": long_title}))
    assert opened.url == f"https://acme.atlassian.net/browse/{opened.key}"
    issue = emulator.issues[opened.key]
    assert (issue.project, issue.issue_type, issue.priority) == ("SEC", "Task", None)
    assert issue.labels == [f"soar-{draft.case_id}", "soar"]
    assert len(issue.summary) == 255 and issue.summary.startswith("Ransomware on ws-01 xxx")
    assert issue.summary.endswith("…")
    texts = [str(node["text"]) for node in text_nodes(issue.description)]
    assert texts[:4] == [
        "Mass file renames on ws-01.",
        "The host was isolated.",
        "Next: reimage.",
        "Severity: critical · Marking: TLP:AMBER",
    ]
    assert "hostname ws-01 (host)" in texts and "ip 203.0.113.7 (source)" in texts
    assert f"Opened by SOAR for case {draft.case_id}." in texts
    assert links(issue.description) == [draft.case_url]


async def test_hostile_text_shows_literally_and_links_nowhere(
    emulator: JiraEmulator, system: JiraTicketSystem, draft: TicketDraft
) -> None:
    hostile = draft.model_copy(
        update={"title": HOSTILE, "description": HOSTILE, "case_url": "javascript:alert(1)"}
    )
    opened = await system.open(hostile)
    issue = emulator.issues[opened.key]
    assert issue.summary == HOSTILE
    nodes = text_nodes(issue.description)
    assert nodes[0] == {"type": "text", "text": HOSTILE}
    assert links(issue.description) == [], "nothing in the case became a link"


async def test_priorities_are_sent_only_when_mapped(
    emulator: JiraEmulator, draft: TicketDraft
) -> None:
    mapped = JiraTicketSystem(
        "jira-sec", options(emulator, priorities={"critical": "Highest"}, issue_type="Incident")
    )
    try:
        opened = await mapped.open(draft)
        other = await mapped.open(draft.model_copy(update={"severity": Severity.LOW}))
    finally:
        await mapped.aclose()
    assert emulator.issues[opened.key].priority == "Highest"
    assert emulator.issues[opened.key].issue_type == "Incident"
    assert emulator.issues[other.key].priority is None


async def test_find_asks_jql_for_the_label_in_the_project_only(
    emulator: JiraEmulator, system: JiraTicketSystem, draft: TicketDraft
) -> None:
    elsewhere = JiraTicketSystem("jira-it", options(emulator, project="IT"))
    try:
        await elsewhere.open(draft)
        assert await system.find(draft.case_id) is None
    finally:
        await elsewhere.aclose()
    [search] = [c for c in emulator.calls if c.path.endswith("/search/jql")]
    assert json.loads(search.body) == {
        "jql": f'project = "SEC" AND labels = "soar-{draft.case_id}" ORDER BY created ASC',
        "fields": ["summary", "labels"],
        "maxResults": 10,
    }


async def test_a_comment_jira_split_into_other_nodes_is_still_recognised(
    emulator: JiraEmulator, system: JiraTicketSystem, draft: TicketDraft
) -> None:
    opened = await system.open(draft)
    emulator.issues[opened.key].comments.append(
        {
            "id": "1",
            "body": {
                "type": "doc",
                "version": 1,
                "content": [
                    {
                        "type": "paragraph",
                        "content": [
                            {"type": "text", "text": "Case closed: "},
                            {"type": "text", "text": "contained.", "marks": [{"type": "strong"}]},
                        ],
                    }
                ],
            },
        }
    )
    assert not await system.comment(opened.key, "Case closed: contained.")
    assert await system.comment(opened.key, "Case closed: contained.\nReimaged.")
    assert emulator.comments_on(opened.key)[-1] == "Case closed: contained.\nReimaged."


async def test_a_comment_on_an_issue_jira_does_not_have_fails_once(
    emulator: JiraEmulator, system: JiraTicketSystem, draft: TicketDraft
) -> None:
    activities = TicketActivities(TicketSystemRegistry([system]))
    with pytest.raises(ApplicationError) as missing:
        await activities.comment_ticket(
            TicketComment(system="jira-sec", key="SEC-999", case_id=draft.case_id, text="closed")
        )
    assert missing.value.non_retryable and missing.value.type == "TargetNotFound"
    assert "Issue does not exist or you do not have permission to see it." in missing.value.message
    with pytest.raises(ApplicationError) as none:
        await activities.comment_ticket(
            TicketComment(system="jira-sec", case_id=draft.case_id, text="closed")
        )
    assert none.value.non_retryable and none.value.type == "NoTicket"


async def test_jiras_field_errors_are_a_rejected_request_in_its_words(
    emulator: JiraEmulator, draft: TicketDraft
) -> None:
    wrong = JiraTicketSystem("jira-sec", options(emulator, project="NOPE", issue_type="Epic"))
    activities = TicketActivities(TicketSystemRegistry([wrong]))
    try:
        with pytest.raises(RequestRejected) as rejected:
            await wrong.open(draft)
        with pytest.raises(ApplicationError) as failed:
            await activities.open_ticket(OpenTicket(system="jira-sec", **draft.model_dump()))
    finally:
        await wrong.aclose()
    assert rejected.value.status == 400
    assert "project: valid project is required; issuetype: Specify a valid issue type" in str(
        rejected.value
    )
    assert failed.value.non_retryable and failed.value.type == "RequestRejected"
    assert emulator.tickets_created == 0


async def test_a_429_is_waited_out_until_retry_after(
    emulator: JiraEmulator, system: JiraTicketSystem, draft: TicketDraft
) -> None:
    emulator.throttle(1, seconds=1)
    began = time.monotonic()
    assert await system.find(draft.case_id) is None
    assert time.monotonic() - began >= 1
    assert [c.status for c in emulator.calls] == [429, 200]


async def test_a_base_url_pasted_with_the_api_root_still_works(
    emulator: JiraEmulator, draft: TicketDraft
) -> None:
    settings = options(emulator, base_url=f"{emulator.base_url}/rest/api/3/", web_url=None)
    assert settings.base_url == emulator.base_url
    made = JiraTicketSystem("jira-sec", settings)
    try:
        opened = await made.open(draft)
    finally:
        await made.aclose()
    assert opened.url == f"{emulator.base_url}/browse/{opened.key}"


# The check, the descriptor, secrets


async def test_the_check_reads_the_account_and_the_project_and_changes_nothing(
    emulator: JiraEmulator,
) -> None:
    lines = await check("jira-sec", options(emulator))
    assert lines == [
        f"reached {emulator.base_url}",
        f"token accepted: it acts as SOAR ({emulator.email})",
        "project SEC (Security) can be read; cases' issues are opened there as Task",
    ]
    assert {c.method for c in emulator.calls} == {"GET"}
    with pytest.raises(CredentialsRejected):
        await check("jira-sec", options(emulator, api_token=BAD_TOKEN))
    with pytest.raises(TargetNotFound) as missing:
        await check("jira-sec", options(emulator, project="OPS"))
    assert "No project could be found with key 'OPS'." in str(missing.value)


def test_the_integration_is_installed_and_names_a_bad_option() -> None:
    found = installed().integrations["jira"]
    assert found is INTEGRATION
    assert found.kinds == ["ticketing"]
    with pytest.raises(ValueError, match=r"tickets\.jira\.options\.project"):
        options_of(
            found,
            "tickets",
            "jira",
            {
                "base_url": "https://a.atlassian.net",
                "email": "a@b.c",
                "api_token": "t",
                "project": "x y",
            },
        )
    with pytest.raises(ValueError, match=r"tickets\.jira\.options\.labels"):
        options_of(
            found,
            "tickets",
            "jira",
            {
                "base_url": "https://a.atlassian.net",
                "email": "a@b.c",
                "api_token": "t",
                "project": "SEC",
                "labels": ["two words"],
            },
        )


async def test_nothing_secret_is_in_an_error_or_a_log(
    emulator: JiraEmulator,
    system: JiraTicketSystem,
    bad_credentials_system: JiraTicketSystem,
    draft: TicketDraft,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[IntegrationError] = []
    with pytest.raises(IntegrationError) as refused:
        await bad_credentials_system.open(draft)
    errors.append(refused.value)
    with pytest.raises(IntegrationError) as missing:
        await system.comment("SEC-404", "closed")
    errors.append(missing.value)
    emulator.outage(10)
    with pytest.raises(IntegrationError) as down:
        await system.find(draft.case_id)
    errors.append(down.value)
    basic = [
        base64.b64encode(f"{emulator.email}:{secret}".encode()).decode()
        for secret in emulator.secrets
    ]
    text = " ".join(str(e) for e in errors) + caplog.text
    for secret in [*emulator.secrets, *basic]:
        assert secret not in text
    assert emulator.token not in repr(options(emulator))

"""The ServiceNow ticket system against the ServiceNow emulator over real HTTP: the
ticket system contract, then ServiceNow's own ways — the incident's fields (short
description cut to 160 characters, urgency and impact from the severity, the case id as
correlation_id), a table without correlation_id (its lenient query and create caught),
work notes or comments read back from the journal, a journal the user may not read,
unknown records, 429 with Retry-After, the check, the descriptor, and no secret in any
error or log line."""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from integrations.servicenow import INTEGRATION, ServiceNowOptions, ServiceNowTicketSystem
from integrations.servicenow.ticket_system import check
from soar.alerts.models import Observable, ObservableRole, ObservableType, Severity
from soar.integrations.errors import (
    CredentialsRejected,
    IntegrationError,
    RequestRejected,
    TargetNotFound,
)
from soar.runtime.integrations import installed, options_of
from soar.testing.contract import TicketSystemContract
from soar.testing.emulators.servicenow import ServiceNowEmulator
from soar.tickets.models import TicketDraft

BAD_PASSWORD = "not-the-integration-users-password"


def options(servicenow: ServiceNowEmulator, **extra: object) -> ServiceNowOptions:
    settings: dict[str, object] = {
        "base_url": servicenow.base_url,
        "username": servicenow.username,
        "password": servicenow.password,
        "max_wait_seconds": 5,
    }
    settings.update(extra)
    return ServiceNowOptions.model_validate(settings)


@pytest.fixture
async def emulator() -> AsyncIterator[ServiceNowEmulator]:
    servicenow = ServiceNowEmulator()
    servicenow.secrets.append(BAD_PASSWORD)
    async with servicenow:
        yield servicenow


@pytest.fixture
async def system(emulator: ServiceNowEmulator) -> AsyncIterator[ServiceNowTicketSystem]:
    made = ServiceNowTicketSystem("snow", options(emulator))
    yield made
    await made.aclose()


@pytest.fixture
async def bad_credentials_system(
    emulator: ServiceNowEmulator,
) -> AsyncIterator[ServiceNowTicketSystem]:
    made = ServiceNowTicketSystem("snow", options(emulator, password=BAD_PASSWORD))
    yield made
    await made.aclose()


@pytest.fixture
def draft() -> TicketDraft:
    return TicketDraft(
        case_id=f"case-{uuid.uuid4().hex[:24]}-{uuid.uuid4().hex[:8]}",
        title="Ransomware on ws-01",
        description="Mass file renames on ws-01.\nThe host was isolated.",
        severity=Severity.HIGH,
        observables=[
            Observable(type=ObservableType.IP, value="203.0.113.7", role=ObservableRole.SOURCE)
        ],
        case_url="https://soar.example.org/cases/x",
    )


class TestServiceNowContract(TicketSystemContract):
    """The contract every ticket system keeps, on one instance's incident table."""


async def test_the_incident_carries_the_case_id_and_its_severity_as_impact_and_urgency(
    emulator: ServiceNowEmulator, system: ServiceNowTicketSystem, draft: TicketDraft
) -> None:
    hostile = "Ransomware\n<script>alert(1)</script> ${7*7}\u202e " + "x" * 300
    opened = await system.open(draft.model_copy(update={"title": hostile}))
    record = emulator.record(opened.key)
    assert record is not None
    assert opened.key == record["number"] and opened.key.startswith("INC")
    assert opened.url == (
        f"{emulator.base_url}/nav_to.do?uri=incident.do%3Fsys_id%3D{record['sys_id']}"
    )
    assert (record["correlation_id"], record["correlation_display"]) == (draft.case_id, "SOAR")
    assert (record["impact"], record["urgency"], record["priority"]) == ("1", "2", "2")
    short = record["short_description"]
    assert len(short) == 160 and short.startswith("Ransomware <script>alert(1)</script> ${7*7} x")
    assert record["description"] == (
        "Mass file renames on ws-01.\nThe host was isolated.\n\n"
        "Severity: high · Marking: TLP:AMBER\n\n"
        "Observables:\n- ip 203.0.113.7 (source)\n\n"
        "Case: https://soar.example.org/cases/x\n\n"
        f"Opened by SOAR for case {draft.case_id}."
    )
    assert "assignment_group" not in record


@pytest.mark.parametrize(
    ("severity", "impact", "urgency", "priority"),
    [
        (Severity.CRITICAL, "1", "1", "1"),
        (Severity.HIGH, "1", "2", "2"),
        (Severity.MEDIUM, "2", "2", "3"),
        (Severity.LOW, "3", "2", "4"),
        (Severity.INFORMATIONAL, "3", "3", "5"),
    ],
)
async def test_severity_sets_impact_and_urgency(
    emulator: ServiceNowEmulator,
    system: ServiceNowTicketSystem,
    draft: TicketDraft,
    severity: Severity,
    impact: str,
    urgency: str,
    priority: str,
) -> None:
    opened = await system.open(draft.model_copy(update={"severity": severity}))
    record = emulator.record(opened.key)
    assert record is not None
    assert (record["impact"], record["urgency"], record["priority"]) == (impact, urgency, priority)


async def test_the_configured_group_caller_and_category_are_set_and_the_description_is_cut(
    emulator: ServiceNowEmulator, draft: TicketDraft
) -> None:
    routed = ServiceNowTicketSystem(
        "snow",
        options(
            emulator,
            assignment_group="SOC",
            caller_id="6816f79cc0a8016401c5a33be04be441",
            category="security",
            max_description=200,
        ),
    )
    try:
        opened = await routed.open(draft.model_copy(update={"description": "y" * 5000}))
    finally:
        await routed.aclose()
    record = emulator.record(opened.key)
    assert record is not None
    assert (record["assignment_group"], record["category"]) == ("SOC", "security")
    assert record["caller_id"] == "6816f79cc0a8016401c5a33be04be441"
    assert len(record["description"]) == 200 and record["description"].endswith("…")


async def test_find_queries_the_correlation_id_and_trusts_only_records_that_hold_it(
    emulator: ServiceNowEmulator, draft: TicketDraft
) -> None:
    """`u_ticket` has no correlation_id: ServiceNow ignores that condition (every record
    matches) and drops the field on create; neither may pass for the case's ticket."""
    emulator.records["u_ticket"].append(
        {"sys_id": "a" * 32, "number": "REC0000001", "short_description": "someone else's"}
    )
    lenient = ServiceNowTicketSystem("snow", options(emulator, table="u_ticket"))
    try:
        assert await lenient.find(draft.case_id) is None
        with pytest.raises(RequestRejected) as refused:
            await lenient.open(draft)
    finally:
        await lenient.aclose()
    assert "without the case id in correlation_id" in str(refused.value)
    [search, *_] = [c for c in emulator.calls if c.method == "GET"]
    assert search.query["sysparm_query"] == f"correlation_id={draft.case_id}^ORDERBYsys_created_on"
    assert search.query["sysparm_fields"] == "sys_id,number,correlation_id"


async def test_comments_go_to_the_configured_journal_field_once(
    emulator: ServiceNowEmulator, draft: TicketDraft
) -> None:
    public = ServiceNowTicketSystem("snow", options(emulator, comment_field="comments"))
    try:
        opened = await public.open(draft)
        assert await public.comment(opened.key, "Case closed.")
        assert not await public.comment(opened.key, "Case closed.")
    finally:
        await public.aclose()
    assert emulator.comments_on(opened.key, "comments") == ["Case closed."]
    assert emulator.comments_on(opened.key, "work_notes") == []
    [patch] = [c for c in emulator.calls if c.method == "PATCH"]
    assert json.loads(patch.body) == {"comments": "Case closed."}


async def test_a_journal_the_user_may_not_read_still_takes_the_comment(
    draft: TicketDraft,
) -> None:
    servicenow = ServiceNowEmulator(journal_readable=False)
    async with servicenow:
        system = ServiceNowTicketSystem("snow", options(servicenow))
        try:
            opened = await system.open(draft)
            assert await system.comment(opened.key, "Case closed.")
        finally:
            await system.aclose()
        assert servicenow.comments_on(opened.key) == ["Case closed."]


async def test_an_unknown_or_unqueryable_record_is_a_permanent_error(
    emulator: ServiceNowEmulator, system: ServiceNowTicketSystem
) -> None:
    with pytest.raises(TargetNotFound) as missing:
        await system.comment("INC9999999", "closed")
    assert "incident record INC9999999 does not exist" in str(missing.value)
    before = emulator.requests
    with pytest.raises(RequestRejected):
        await system.comment("INC1^active=true", "closed")
    assert emulator.requests == before


async def test_a_429_is_waited_out_until_retry_after(
    emulator: ServiceNowEmulator, system: ServiceNowTicketSystem, draft: TicketDraft
) -> None:
    emulator.throttle(1, seconds=1)
    began = time.monotonic()
    assert await system.find(draft.case_id) is None
    assert time.monotonic() - began >= 1
    assert [c.status for c in emulator.calls] == [429, 200]


async def test_the_check_reads_the_table_and_changes_nothing(
    emulator: ServiceNowEmulator,
) -> None:
    lines = await check("snow", options(emulator))
    assert lines == [
        f"reached {emulator.base_url}",
        "credentials of soar.integration accepted: incident can be read; cases' records get "
        "their case id as correlation_id and comments in work_notes",
    ]
    assert {c.method for c in emulator.calls} == {"GET"}
    with pytest.raises(CredentialsRejected) as refused:
        await check("snow", options(emulator, password=BAD_PASSWORD))
    assert "User Not Authenticated: Required to provide Auth information" in str(refused.value)


def test_the_integration_is_installed_and_names_a_bad_option() -> None:
    found = installed().integrations["servicenow"]
    assert found is INTEGRATION
    assert found.kinds == ["ticketing"]
    base = {"base_url": "https://acme.service-now.com/api/now", "username": "u", "password": "p"}
    made = options_of(found, "tickets", "snow", base)
    assert isinstance(made, ServiceNowOptions)
    assert made.base_url == "https://acme.service-now.com"
    with pytest.raises(ValueError, match=r"tickets\.snow\.options\.comment_field"):
        options_of(found, "tickets", "snow", base | {"comment_field": "notes"})


async def test_nothing_secret_is_in_an_error_or_a_log(
    emulator: ServiceNowEmulator,
    system: ServiceNowTicketSystem,
    bad_credentials_system: ServiceNowTicketSystem,
    draft: TicketDraft,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[IntegrationError] = []
    with pytest.raises(IntegrationError) as refused:
        await bad_credentials_system.open(draft)
    errors.append(refused.value)
    with pytest.raises(IntegrationError) as missing:
        await system.comment("INC0404040", "closed")
    errors.append(missing.value)
    emulator.outage(10)
    with pytest.raises(IntegrationError) as down:
        await system.find(draft.case_id)
    errors.append(down.value)
    basic = [
        base64.b64encode(f"{emulator.username}:{secret}".encode()).decode()
        for secret in emulator.secrets
    ]
    text = " ".join(str(e) for e in errors) + caplog.text
    for secret in [*emulator.secrets, *basic]:
        assert secret not in text
    assert emulator.password not in repr(options(emulator))

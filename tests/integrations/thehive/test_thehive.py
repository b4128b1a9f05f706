"""The TheHive ticket system against the TheHive emulator over real HTTP: the ticket
system contract (with TheHive 5's and the older duplicate answers), then TheHive's own
ways — the alert's fields, markings and observables, Markdown that shows hostile text
literally, the 400 "already exists" answered with the existing alert, the organisation
header, comments, unknown alerts, the check, the descriptor, and no secret in any error
or log line."""

from __future__ import annotations

import json
import logging
import re
import string
import uuid
from collections.abc import AsyncIterator
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from integrations.thehive import INTEGRATION, TheHiveOptions, TheHiveTicketSystem
from integrations.thehive.markdown import literal
from integrations.thehive.ticket_system import check
from soar.alerts.models import Observable, ObservableRole, ObservableType, Severity
from soar.enrichment.models import Tlp
from soar.integrations.errors import (
    CredentialsRejected,
    IntegrationError,
    TargetNotFound,
)
from soar.runtime.integrations import installed, options_of
from soar.testing.contract import TicketSystemContract
from soar.testing.emulators.thehive import TheHiveEmulator, as_read
from soar.tickets.models import TicketDraft

BAD_KEY = "not-the-thehive-api-key-for-tests"
HOSTILE = "![x](https://evil.example/p.png) <img src=x onerror=alert(1)> # Heading *b* `c`"


def options(thehive: TheHiveEmulator, **extra: object) -> TheHiveOptions:
    settings: dict[str, object] = {
        "base_url": thehive.base_url,
        "api_key": thehive.key,
        "organisation": "SOC",
        "max_wait_seconds": 5,
        "web_url": "https://thehive.example.org",
    }
    settings.update(extra)
    return TheHiveOptions.model_validate(settings)


@pytest.fixture(params=["create", "conflict"])
async def emulator(request: pytest.FixtureRequest) -> AsyncIterator[TheHiveEmulator]:
    duplicate: Literal["create", "conflict"] = request.param
    thehive = TheHiveEmulator(duplicate=duplicate)
    thehive.secrets.append(BAD_KEY)
    async with thehive:
        yield thehive


@pytest.fixture
async def system(emulator: TheHiveEmulator) -> AsyncIterator[TheHiveTicketSystem]:
    made = TheHiveTicketSystem("hive", options(emulator))
    yield made
    await made.aclose()


@pytest.fixture
async def bad_credentials_system(emulator: TheHiveEmulator) -> AsyncIterator[TheHiveTicketSystem]:
    made = TheHiveTicketSystem("hive", options(emulator, api_key=BAD_KEY))
    yield made
    await made.aclose()


@pytest.fixture
def draft() -> TicketDraft:
    return TicketDraft(
        case_id=f"case-{uuid.uuid4().hex[:24]}-{uuid.uuid4().hex[:8]}",
        title="Ransomware on ws-01",
        description="Mass file renames on ws-01.\nThe host was isolated.",
        severity=Severity.HIGH,
        tlp=Tlp.AMBER_STRICT,
        observables=[
            Observable(type=ObservableType.IP, value="203.0.113.7", role=ObservableRole.SOURCE),
            Observable(type=ObservableType.IP, value="203.0.113.7", role=ObservableRole.RELATED),
            Observable(type=ObservableType.USER, value="j.doe", role=ObservableRole.ACTOR),
        ],
        case_url="https://soar.example.org/cases/x",
    )


def unescaped_punctuation(markdown: str) -> set[str]:
    """ASCII punctuation in `markdown` that no backslash escapes."""
    return set(re.sub(r"\\.", "", markdown, flags=re.DOTALL)) & set(string.punctuation)


class TestTheHiveContract(TicketSystemContract):
    """The contract every ticket system keeps, on one TheHive organisation."""


async def test_the_alert_carries_the_case_id_its_markings_and_one_observable_per_value(
    emulator: TheHiveEmulator, system: TheHiveTicketSystem, draft: TicketDraft
) -> None:
    opened = await system.open(draft)
    assert opened.url == f"https://thehive.example.org/alerts/{opened.key}/details"
    body = emulator.alerts[opened.key].body
    assert {k: body[k] for k in ("type", "source", "sourceRef", "title", "severity")} == {
        "type": "soar-case",
        "source": "soar",
        "sourceRef": draft.case_id,
        "title": "Ransomware on ws-01",
        "severity": 3,
    }
    assert (body["tlp"], body["pap"], body["tags"]) == (3, 2, ["soar"])
    assert body["observables"] == [
        {"dataType": "ip", "data": "203.0.113.7", "tlp": 3, "tags": ["role:source", "type:ip"]},
        {"dataType": "other", "data": "j.doe", "tlp": 3, "tags": ["role:actor", "type:user"]},
    ]
    assert as_read(body["description"]) == (
        "Mass file renames on ws-01.\nThe host was isolated.\n\n"
        "**Severity:** high · **Marking:** TLP:AMBER+STRICT\n\n"
        "- ip 203.0.113.7 (source)\n- ip 203.0.113.7 (related)\n- user j.doe (actor)\n\n"
        "[Open the case](https://soar.example.org/cases/x)\n\n"
        f"Opened by SOAR for case {draft.case_id}."
    )
    [create] = [c for c in emulator.calls if c.path == "/api/v1/alert"]
    assert json.loads(create.body)["sourceRef"] == draft.case_id


async def test_hostile_text_is_escaped_so_nothing_renders_as_markdown(
    emulator: TheHiveEmulator, system: TheHiveTicketSystem, draft: TicketDraft
) -> None:
    hostile = draft.model_copy(
        update={"description": HOSTILE, "case_url": "javascript:alert(1)", "observables": []}
    )
    opened = await system.open(hostile)
    description = emulator.alerts[opened.key].body["description"]
    first = description.split("\n\n")[0]
    assert first == literal(HOSTILE)
    assert unescaped_punctuation(first) == set()
    assert "](" not in description, "no link to anywhere but http(s)"
    assert as_read(first) == HOSTILE
    await system.comment(opened.key, HOSTILE)
    assert emulator.alerts[opened.key].comments == [literal(HOSTILE)]


@given(st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc", "Cf", "Co"]), max_size=80))
def test_literal_markdown_reads_back_as_the_text(text: str) -> None:
    escaped = literal(text)
    assert as_read(escaped) == text
    assert unescaped_punctuation(escaped) == set()


async def test_an_alert_thehive_already_has_is_answered_not_duplicated(
    emulator: TheHiveEmulator, system: TheHiveTicketSystem, draft: TicketDraft
) -> None:
    """The create lands after the search missed it (a first attempt's, late): TheHive
    refuses the second, and the existing alert is the answer."""
    first = await system.open(draft)
    second = await system.open(draft)
    assert (first.created, second.created, second.key) == (True, False, first.key)
    assert emulator.refused_duplicates == 1
    assert emulator.tickets_created == 1


async def test_the_older_tlp_scale_and_the_organisation_header(
    emulator: TheHiveEmulator, draft: TicketDraft
) -> None:
    older = {"clear": 0, "green": 1, "amber": 2, "amber+strict": 2, "red": 3}
    system = TheHiveTicketSystem("hive", options(emulator, tlp=older))
    elsewhere = TheHiveTicketSystem("hive", options(emulator, organisation="Other"))
    try:
        opened = await system.open(draft.model_copy(update={"tlp": Tlp.RED}))
        with pytest.raises(CredentialsRejected):
            await elsewhere.find(draft.case_id)
    finally:
        await system.aclose()
        await elsewhere.aclose()
    assert emulator.alerts[opened.key].body["tlp"] == 3


async def test_a_comment_on_an_alert_thehive_does_not_have_is_target_not_found(
    emulator: TheHiveEmulator, system: TheHiveTicketSystem
) -> None:
    with pytest.raises(TargetNotFound) as missing:
        await system.comment("~999", "closed")
    assert "Alert ~999 not found [NotFoundError]" in str(missing.value)


async def test_the_check_says_who_the_key_acts_as_and_changes_nothing(
    emulator: TheHiveEmulator,
) -> None:
    lines = await check("hive", options(emulator))
    assert lines == [
        f"reached {emulator.base_url}",
        "key accepted: it acts as soar@example.org (SOAR integration) in SOC",
    ]
    assert {c.method for c in emulator.calls} == {"GET"}
    with pytest.raises(CredentialsRejected) as refused:
        await check("hive", options(emulator, api_key=BAD_KEY))
    assert "Authentication failure [AuthenticationError]" in str(refused.value)


def test_the_integration_is_installed_and_names_a_bad_option() -> None:
    found = installed().integrations["thehive"]
    assert found is INTEGRATION
    assert found.kinds == ["ticketing"]
    base = {"base_url": "https://thehive.example.org/api/v1", "api_key": "k"}
    made = options_of(found, "tickets", "hive", base)
    assert isinstance(made, TheHiveOptions) and made.base_url == "https://thehive.example.org"
    with pytest.raises(ValueError, match=r"tickets\.hive\.options\.tlp"):
        options_of(found, "tickets", "hive", base | {"tlp": {"red": 3}})
    with pytest.raises(ValueError, match=r"tickets\.hive\.options\.pap"):
        options_of(found, "tickets", "hive", base | {"pap": 7})


async def test_nothing_secret_is_in_an_error_or_a_log(
    emulator: TheHiveEmulator,
    system: TheHiveTicketSystem,
    bad_credentials_system: TheHiveTicketSystem,
    draft: TicketDraft,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[IntegrationError] = []
    with pytest.raises(IntegrationError) as refused:
        await bad_credentials_system.open(draft)
    errors.append(refused.value)
    with pytest.raises(IntegrationError) as missing:
        await system.comment("~404", "closed")
    errors.append(missing.value)
    emulator.outage(10)
    with pytest.raises(IntegrationError) as down:
        await system.find(draft.case_id)
    errors.append(down.value)
    text = " ".join(str(e) for e in errors) + caplog.text
    for secret in emulator.secrets:
        assert secret not in text
    assert emulator.key not in repr(options(emulator))

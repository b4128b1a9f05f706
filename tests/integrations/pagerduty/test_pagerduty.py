"""The PagerDuty pager against the Events API v2 emulator over real HTTP: the pager
contract, then PagerDuty's own ways — what a trigger carries and what acknowledge and
resolve leave out, summaries made one line and cut to 1,024 characters, a 429 with no
wait backed off (and a long back-off handed to Temporal), the service's own limit, an
unknown routing key, outages, the check, the descriptor, and no secret in any error or
log line."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from temporalio.exceptions import ApplicationError

from integrations.pagerduty import INTEGRATION, PagerDutyOptions, PagerDutyPager
from integrations.pagerduty.pager import check
from soar.alerts.models import Severity
from soar.integrations.errors import (
    CredentialsRejected,
    IntegrationError,
    RateLimited,
    TransientError,
)
from soar.paging.activities import PagingActivities
from soar.paging.models import PageAction, PageEvent, PageLink, PageRequest
from soar.paging.pagers import PagerRegistry
from soar.runtime.integrations import installed, options_of
from soar.testing.contract import PagerContract
from soar.testing.emulators.pagerduty import PagerDutyEmulator, routing_key

BAD_KEY = routing_key()
WAIT = 0.3


def options(pagerduty: PagerDutyEmulator, **extra: object) -> PagerDutyOptions:
    settings: dict[str, object] = {
        "base_url": pagerduty.base_url,
        "routing_key": pagerduty.key,
        "rate_limit_wait_seconds": WAIT,
        "requests_per_minute": 6000,
        "max_wait_seconds": 5,
        "client_url": "https://soar.example.org",
    }
    settings.update(extra)
    return PagerDutyOptions.model_validate(settings)


@pytest.fixture
async def emulator() -> AsyncIterator[PagerDutyEmulator]:
    pagerduty = PagerDutyEmulator()
    pagerduty.secrets.append(BAD_KEY)
    async with pagerduty:
        yield pagerduty


@pytest.fixture
async def pager(emulator: PagerDutyEmulator) -> AsyncIterator[PagerDutyPager]:
    made = PagerDutyPager("oncall", options(emulator))
    yield made
    await made.aclose()


@pytest.fixture
async def bad_credentials_pager(emulator: PagerDutyEmulator) -> AsyncIterator[PagerDutyPager]:
    made = PagerDutyPager("oncall", options(emulator, routing_key=BAD_KEY))
    yield made
    await made.aclose()


@pytest.fixture
def case_id() -> str:
    return f"case-{uuid.uuid4().hex[:24]}-{uuid.uuid4().hex[:8]}"


class TestPagerDutyContract(PagerContract):
    """The contract every pager keeps, on one PagerDuty service."""


def bodies(pagerduty: PagerDutyEmulator) -> list[dict[str, object]]:
    return [json.loads(call.body) for call in pagerduty.calls if call.method == "POST"]


async def test_a_trigger_carries_what_the_on_call_reads_and_the_others_only_the_key(
    emulator: PagerDutyEmulator, pager: PagerDutyPager, case_id: str
) -> None:
    await pager.send(
        PageEvent(
            action=PageAction.TRIGGER,
            dedup_key=case_id,
            summary="Ransomware on\nws-01\u202e <b>now</b>",
            severity=Severity.CRITICAL,
            links=[PageLink(href="https://soar.example.org/cases/x", text="The case")],
            details={"host": "ws-01", "rule": "Mass file renames"},
        )
    )
    receipt = await pager.send(PageEvent(action=PageAction.ACKNOWLEDGE, dedup_key=case_id))
    await pager.send(PageEvent(action=PageAction.RESOLVE, dedup_key=case_id))
    trigger, acknowledge, resolve = bodies(emulator)
    assert trigger == {
        "routing_key": emulator.key,
        "event_action": "trigger",
        "dedup_key": case_id,
        "payload": {
            "summary": "Ransomware on ws-01 <b>now</b>",
            "source": "soar",
            "severity": "critical",
            "custom_details": {"host": "ws-01", "rule": "Mass file renames"},
        },
        "links": [{"href": "https://soar.example.org/cases/x", "text": "The case"}],
        "client": "SOAR",
        "client_url": "https://soar.example.org",
    }
    assert acknowledge == {
        "routing_key": emulator.key,
        "event_action": "acknowledge",
        "dedup_key": case_id,
    }
    assert resolve["event_action"] == "resolve" and "payload" not in resolve
    assert (receipt.message, receipt.action) == ("Event processed", PageAction.ACKNOWLEDGE)
    alert = emulator.alert(case_id)
    assert alert is not None and alert.status == "resolved" and alert.severity == "critical"


@pytest.mark.parametrize(
    ("severity", "word"),
    [
        (Severity.CRITICAL, "critical"),
        (Severity.HIGH, "error"),
        (Severity.MEDIUM, "warning"),
        (Severity.LOW, "info"),
        (Severity.INFORMATIONAL, "info"),
    ],
)
async def test_severities_in_pagerdutys_words(
    emulator: PagerDutyEmulator, pager: PagerDutyPager, severity: Severity, word: str
) -> None:
    await pager.send(
        PageEvent(action=PageAction.TRIGGER, dedup_key="k", summary="x", severity=severity)
    )
    alert = emulator.alert("k")
    assert alert is not None and alert.severity == word


async def test_a_long_summary_is_cut_to_what_pagerduty_takes(
    emulator: PagerDutyEmulator, pager: PagerDutyPager, case_id: str
) -> None:
    long = "Ransomware  on\tws-01 " + "A" * 2000
    await pager.send(PageEvent(action=PageAction.TRIGGER, dedup_key=case_id, summary=long))
    alert = emulator.alert(case_id)
    assert alert is not None and len(alert.summary) == 1024
    assert alert.summary.startswith("Ransomware on ws-01 AAA") and alert.summary.endswith("A…")
    with pytest.raises(ValueError, match="a trigger needs a summary"):
        PageRequest(pager="oncall", action=PageAction.TRIGGER, case_id=case_id, summary=" ")


async def test_a_trigger_after_the_alert_was_resolved_opens_a_new_one(
    emulator: PagerDutyEmulator, pager: PagerDutyPager, case_id: str
) -> None:
    trigger = PageEvent(action=PageAction.TRIGGER, dedup_key=case_id, summary="again")
    await pager.send(trigger)
    await pager.send(PageEvent(action=PageAction.RESOLVE, dedup_key=case_id))
    await pager.send(trigger)
    assert emulator.alerts_opened == 2
    assert emulator.status_of(case_id) == "triggered"


async def test_an_acknowledge_of_no_alert_is_dropped(
    emulator: PagerDutyEmulator, pager: PagerDutyPager, case_id: str
) -> None:
    receipt = await pager.send(PageEvent(action=PageAction.ACKNOWLEDGE, dedup_key=case_id))
    assert receipt.message == "Event processed"
    assert emulator.alerts_opened == 0


# Rate limits


async def test_a_429_without_a_wait_is_backed_off_then_lands(
    emulator: PagerDutyEmulator, pager: PagerDutyPager, case_id: str
) -> None:
    emulator.throttle(1)
    began = time.monotonic()
    await pager.send(PageEvent(action=PageAction.TRIGGER, dedup_key=case_id, summary="x"))
    assert time.monotonic() - began >= WAIT
    assert [c.status for c in emulator.calls] == [429, 202]
    assert emulator.status_of(case_id) == "triggered"


async def test_a_back_off_longer_than_the_step_waits_is_a_timed_retry(
    emulator: PagerDutyEmulator, case_id: str
) -> None:
    patient = PagerDutyPager("oncall", options(emulator, rate_limit_wait_seconds=30))
    emulator.throttle(1)
    try:
        with pytest.raises(RateLimited) as limited:
            await patient.send(PageEvent(action=PageAction.TRIGGER, dedup_key=case_id, summary="x"))
        assert limited.value.retry_after == 30
        emulator.throttle(1)
        activities = PagingActivities(PagerRegistry([patient]))
        with pytest.raises(ApplicationError) as retry:
            await activities.page(
                PageRequest(pager="oncall", action=PageAction.TRIGGER, case_id=case_id, summary="x")
            )
    finally:
        await patient.aclose()
    assert not retry.value.non_retryable
    assert retry.value.next_retry_delay == timedelta(seconds=30)
    assert emulator.alerts_opened == 0


async def test_the_services_own_limit_is_waited_out(case_id: str) -> None:
    pagerduty = PagerDutyEmulator(events_per_window=2, window_seconds=1)
    async with pagerduty:
        pager = PagerDutyPager("oncall", options(pagerduty, rate_limit_wait_seconds=0.6))
        try:
            for action in (PageAction.TRIGGER, PageAction.ACKNOWLEDGE, PageAction.RESOLVE):
                await pager.send(PageEvent(action=action, dedup_key=case_id, summary="x"))
        finally:
            await pager.aclose()
        statuses = [c.status for c in pagerduty.calls]
    assert statuses[:3] == [202, 202, 429] and statuses[-1] == 202
    assert pagerduty.status_of(case_id) == "resolved"


# Refusals and outages


async def test_an_unknown_routing_key_is_refused_credentials_in_pagerdutys_words(
    emulator: PagerDutyEmulator, bad_credentials_pager: PagerDutyPager, case_id: str
) -> None:
    with pytest.raises(CredentialsRejected) as refused:
        await bad_credentials_pager.send(
            PageEvent(action=PageAction.TRIGGER, dedup_key=case_id, summary="x")
        )
    assert str(refused.value) == (
        f"oncall: trigger the alert of {case_id}: PagerDuty refused the routing key (400): "
        "Event object is invalid: Invalid routing key"
    )
    assert len(emulator.calls) == 1


async def test_an_outage_is_retried_and_a_long_one_is_transient(
    emulator: PagerDutyEmulator, pager: PagerDutyPager, case_id: str
) -> None:
    trigger = PageEvent(action=PageAction.TRIGGER, dedup_key=case_id, summary="x")
    emulator.outage(2)
    await pager.send(trigger)
    assert emulator.alerts_opened == 1
    emulator.outage(10)
    with pytest.raises(TransientError) as down:
        await pager.send(PageEvent(action=PageAction.RESOLVE, dedup_key=case_id))
    assert "503" in str(down.value)
    assert emulator.status_of(case_id) == "triggered"


# The check, the descriptor, secrets


async def test_the_check_has_the_key_accepted_and_pages_nobody(
    emulator: PagerDutyEmulator,
) -> None:
    lines = await check("oncall", options(emulator))
    assert lines[0] == f"reached {emulator.base_url}"
    assert lines[1].startswith(
        "routing key accepted: PagerDuty took an acknowledge for soar-check-"
    )
    assert emulator.alerts_opened == 0
    [probe] = bodies(emulator)
    assert probe["event_action"] == "acknowledge"
    with pytest.raises(CredentialsRejected):
        await check("oncall", options(emulator, routing_key=BAD_KEY))
    assert emulator.alerts_opened == 0


def test_the_integration_is_installed_and_names_a_bad_option() -> None:
    found = installed().integrations["pagerduty"]
    assert found is INTEGRATION
    assert found.kinds == ["pager"]
    with pytest.raises(ValueError, match=r"paging\.oncall\.options\.routing_key") as bad:
        options_of(found, "paging", "oncall", {"routing_key": "short-key-value"})
    assert "short-key-value" not in str(bad.value)
    made = options_of(found, "paging", "oncall", {"routing_key": BAD_KEY})
    assert isinstance(made, PagerDutyOptions) and made.base_url == "https://events.pagerduty.com"


async def test_nothing_secret_is_in_an_error_or_a_log(
    emulator: PagerDutyEmulator,
    pager: PagerDutyPager,
    bad_credentials_pager: PagerDutyPager,
    caplog: pytest.LogCaptureFixture,
    case_id: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    trigger = PageEvent(action=PageAction.TRIGGER, dedup_key=case_id, summary="x")
    errors: list[IntegrationError] = []
    with pytest.raises(IntegrationError) as refused:
        await bad_credentials_pager.send(trigger)
    errors.append(refused.value)
    emulator.throttle(1)
    await pager.send(trigger)
    emulator.outage(10)
    with pytest.raises(IntegrationError) as down:
        await pager.send(trigger)
    errors.append(down.value)
    text = " ".join(str(e) for e in errors) + caplog.text
    for secret in emulator.secrets:
        assert secret not in text
    assert emulator.key not in repr(options(emulator))

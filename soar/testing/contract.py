"""The contracts every actuator, enricher, ticket system and pager keeps, as tests any
integration runs against its emulator (:class:`ActuatorContract`,
:class:`EnricherContract`, :class:`TicketSystemContract`, :class:`PagerContract`).

Subclass :class:`ActuatorContract` in your test module and give it four fixtures —
`emulator` (a running :class:`EmulatedProduct`), `actuator` (your actuator configured
against it), `bad_credentials_actuator` (the same with credentials the emulator refuses)
and `command` (a command your actuator handles)::

    class TestAcmeFirewall(ActuatorContract):
        @pytest.fixture
        async def emulator(self): ...

The inherited tests check: applying twice is one effect; reverting what is not there
succeeds; verify reads the product (an out-of-band undo is seen); a 429 is waited out
and the call lands; bad credentials are one clear, permanent error; nothing secret is in
a result or an error.

The ticket system and pager contracts run through the activities the case workflow
calls (`tickets.open`, `tickets.comment`, `paging.page`), so they also check what
Temporal is told: opening twice — or again after a first attempt died once the vendor
had created the ticket (the emulator holds that answer) — is one ticket; a comment is
added once; a case is one alert at the pager, acknowledged and resolved with it; a 429
is waited out; a refused credential is one non-retryable error that names the system
and asks the vendor once.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

import pytest
from temporalio.exceptions import ApplicationError

from soar.alerts.models import Observable
from soar.containment.actuators import Actuator, ActuatorResult
from soar.containment.models import ContainmentCommand
from soar.enrichment.models import Verdict
from soar.enrichment.providers import Enricher
from soar.integrations.errors import CredentialsRejected, PermanentError, RequestRejected
from soar.paging.activities import PagingActivities
from soar.paging.models import PageAction, PageRequest
from soar.paging.pagers import Pager, PagerRegistry
from soar.tickets.activities import TicketActivities
from soar.tickets.models import OpenTicket, TicketComment, TicketDraft
from soar.tickets.systems import TicketSystem, TicketSystemRegistry


class EmulatedProduct(Protocol):
    """What the contract needs of an emulator besides serving the vendor's API."""

    secrets: list[str]
    """Every credential the actuators under test were given."""

    def effects(self, command: ContainmentCommand) -> int:
        """State-changing calls the product took for this command's target."""
        ...

    def in_effect(self, command: ContainmentCommand) -> bool:
        """Whether the product holds the command in effect now (its own state)."""
        ...

    def undo_out_of_band(self, command: ContainmentCommand) -> None:
        """Undo the command in the product behind the actuator's back (a console user)."""
        ...

    def throttle(self, times: int = 1, *, seconds: float = 1) -> None:
        """Answer the next calls with the vendor's rate limit and wait signal."""
        ...


def _no_secret_in(text: str, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in text, "a credential leaked into a result or an error"


def _result_text(result: ActuatorResult) -> str:
    return f"{result.detail} {result.data!r}"


class ActuatorContract:
    """The inherited contract tests; see the module docstring."""

    async def test_applying_twice_is_one_effect(
        self, emulator: EmulatedProduct, actuator: Actuator, command: ContainmentCommand
    ) -> None:
        assert actuator.handles(command)
        first = await actuator.apply(command)
        second = await actuator.apply(command)
        assert first.ok and second.ok, (first.detail, second.detail)
        assert emulator.effects(command) == 1
        assert emulator.in_effect(command)
        assert await actuator.verify(command)

    async def test_reverting_what_is_not_there_succeeds(
        self, emulator: EmulatedProduct, actuator: Actuator, command: ContainmentCommand
    ) -> None:
        result = await actuator.revert(command)
        assert result.ok, result.detail
        assert not emulator.in_effect(command)
        assert emulator.effects(command) == 0

    async def test_revert_undoes_and_verify_reads_the_product(
        self, emulator: EmulatedProduct, actuator: Actuator, command: ContainmentCommand
    ) -> None:
        await actuator.apply(command)
        emulator.undo_out_of_band(command)
        assert not await actuator.verify(command)
        await actuator.apply(command)
        assert await actuator.verify(command)
        reverted = await actuator.revert(command)
        assert reverted.ok, reverted.detail
        assert not emulator.in_effect(command)
        assert not await actuator.verify(command)

    async def test_a_rate_limit_is_waited_out(
        self, emulator: EmulatedProduct, actuator: Actuator, command: ContainmentCommand
    ) -> None:
        emulator.throttle(1, seconds=1)
        result = await actuator.apply(command)
        assert result.ok, result.detail
        assert emulator.in_effect(command)

    async def test_bad_credentials_are_one_clear_permanent_error(
        self,
        emulator: EmulatedProduct,
        bad_credentials_actuator: Actuator,
        command: ContainmentCommand,
    ) -> None:
        with pytest.raises(PermanentError) as refused:
            await bad_credentials_actuator.apply(command)
        assert isinstance(refused.value, CredentialsRejected), refused.value
        _no_secret_in(str(refused.value), emulator.secrets)
        assert not emulator.in_effect(command)

    async def test_nothing_secret_is_in_a_result(
        self, emulator: EmulatedProduct, actuator: Actuator, command: ContainmentCommand
    ) -> None:
        for result in (await actuator.apply(command), await actuator.revert(command)):
            _no_secret_in(_result_text(result), emulator.secrets)


class EmulatedIntel(Protocol):
    """What the enricher contract needs of a threat-intel emulator."""

    secrets: list[str]

    @property
    def lookups(self) -> int:
        """Requests that reached the emulated service (every one, answered or not)."""
        ...

    def throttle(self, times: int = 1, *, seconds: float = 1) -> None:
        """Answer the next calls with the vendor's rate limit and wait signal."""
        ...


class EnricherContract:
    """The inherited enricher tests. Fixtures: `service` (a running
    :class:`EmulatedIntel`), `enricher` and `bad_credentials_enricher` (configured
    against it), `malicious` (an observable the service knows as bad), `unknown` (one it
    knows nothing of) and `unsupported` (one this enricher must refuse without a call)."""

    async def test_a_known_bad_observable_is_a_verdict_with_a_reason_and_a_link(
        self, service: EmulatedIntel, enricher: Enricher, malicious: Observable
    ) -> None:
        assert enricher.supports(malicious)
        found = await enricher.enrich(malicious)
        assert found is not None
        assert found.verdict in (Verdict.MALICIOUS, Verdict.SUSPICIOUS), found
        assert found.score > 0 and found.reasons and found.reasons[0].strip()
        assert found.link is not None and found.link.startswith("https://")
        assert found.provider == enricher.name

    async def test_nothing_known_is_an_unknown_answer_not_a_failure(
        self, service: EmulatedIntel, enricher: Enricher, unknown: Observable
    ) -> None:
        found = await enricher.enrich(unknown)
        assert found is not None
        assert found.verdict is Verdict.UNKNOWN and found.reasons

    async def test_an_observable_it_cannot_look_up_is_refused_before_any_call(
        self, service: EmulatedIntel, enricher: Enricher, unsupported: Observable
    ) -> None:
        before = service.lookups
        if enricher.supports(unsupported):
            with pytest.raises(RequestRejected):
                await enricher.enrich(unsupported)
        assert service.lookups == before

    async def test_a_rate_limit_is_waited_out(
        self, service: EmulatedIntel, enricher: Enricher, malicious: Observable
    ) -> None:
        service.throttle(1, seconds=1)
        found = await enricher.enrich(malicious)
        assert found is not None and found.verdict is not Verdict.UNKNOWN

    async def test_a_bad_key_is_one_clear_error_asked_once(
        self, service: EmulatedIntel, bad_credentials_enricher: Enricher, malicious: Observable
    ) -> None:
        before = service.lookups
        with pytest.raises(CredentialsRejected) as refused:
            await bad_credentials_enricher.enrich(malicious)
        _no_secret_in(str(refused.value), service.secrets)
        assert service.lookups == before + 1

    async def test_nothing_secret_is_in_an_answer(
        self, service: EmulatedIntel, enricher: Enricher, malicious: Observable
    ) -> None:
        found = await enricher.enrich(malicious)
        assert found is not None
        _no_secret_in(found.model_dump_json(), service.secrets)


class EmulatedTicketing(Protocol):
    """What the ticket system contract needs of a ticketing emulator."""

    secrets: list[str]
    holding: asyncio.Event
    create_call: tuple[str, str]
    """The method and a path fragment of the call that creates a ticket (to hold)."""

    @property
    def tickets_created(self) -> int:
        """Tickets the vendor created (every one, whoever asked)."""
        ...

    @property
    def requests(self) -> int:
        """Requests that reached the emulated vendor (every one, answered or not)."""
        ...

    def comments_on(self, key: str) -> list[str]:
        """The comments' texts on the ticket `key`, oldest first."""
        ...

    def throttle(self, times: int = 1, *, seconds: float = 1) -> None: ...

    def hold(self, method: str, path_contains: str) -> None: ...

    def release(self) -> None: ...


def _open_request(system: TicketSystem, draft: TicketDraft) -> OpenTicket:
    return OpenTicket(system=system.name, **draft.model_dump())


def _ticket_activities(system: TicketSystem) -> TicketActivities:
    return TicketActivities(TicketSystemRegistry([system]))


class TicketSystemContract:
    """The inherited ticket system tests, through the `tickets.*` activities. Fixtures:
    `emulator` (a running :class:`EmulatedTicketing`), `system` and
    `bad_credentials_system` (configured against it), `draft` (a case's ticket)."""

    async def test_open_then_find_then_comment_once(
        self, emulator: EmulatedTicketing, system: TicketSystem, draft: TicketDraft
    ) -> None:
        activities = _ticket_activities(system)
        opened = await activities.open_ticket(_open_request(system, draft))
        assert opened.created and opened.key
        assert (opened.system, opened.vendor) == (system.name, system.vendor)
        assert opened.url.startswith(("http://", "https://"))
        assert await system.find(draft.case_id) == opened.model_copy(update={"created": False})
        assert await system.find(f"{draft.case_id}-other") is None
        text = f"Case {draft.case_id} closed: contained and verified."
        comment = TicketComment(
            system=system.name, key=opened.key, case_id=draft.case_id, text=text
        )
        first = await activities.comment_ticket(comment)
        again = await activities.comment_ticket(comment)
        assert (first.key, first.added, again.added) == (opened.key, True, False)
        assert emulator.comments_on(opened.key) == [text]
        without_key = comment.model_copy(update={"key": None, "text": f"{text} (again)"})
        assert (await activities.comment_ticket(without_key)).key == opened.key
        assert emulator.tickets_created == 1

    async def test_opening_twice_is_one_ticket(
        self, emulator: EmulatedTicketing, system: TicketSystem, draft: TicketDraft
    ) -> None:
        activities = _ticket_activities(system)
        first = await activities.open_ticket(_open_request(system, draft))
        second = await activities.open_ticket(_open_request(system, draft))
        assert (first.created, second.created) == (True, False)
        assert second.key == first.key
        assert emulator.tickets_created == 1

    async def test_a_crash_after_the_vendor_created_it_is_one_ticket(
        self, emulator: EmulatedTicketing, system: TicketSystem, draft: TicketDraft
    ) -> None:
        """The first attempt dies after the vendor created the ticket, before hearing of
        it; the retry finds that ticket."""
        activities = _ticket_activities(system)
        emulator.hold(*emulator.create_call)
        first = asyncio.create_task(activities.open_ticket(_open_request(system, draft)))
        await asyncio.wait_for(emulator.holding.wait(), 30)
        first.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await first
        emulator.release()
        retried = await activities.open_ticket(_open_request(system, draft))
        assert not retried.created
        assert emulator.tickets_created == 1

    async def test_a_rate_limit_is_waited_out(
        self, emulator: EmulatedTicketing, system: TicketSystem, draft: TicketDraft
    ) -> None:
        emulator.throttle(1, seconds=1)
        opened = await _ticket_activities(system).open_ticket(_open_request(system, draft))
        assert opened.created
        assert emulator.tickets_created == 1

    async def test_a_bad_credential_is_one_clear_error_not_retried(
        self, emulator: EmulatedTicketing, bad_credentials_system: TicketSystem, draft: TicketDraft
    ) -> None:
        before = emulator.requests
        activities = _ticket_activities(bad_credentials_system)
        with pytest.raises(ApplicationError) as refused:
            await activities.open_ticket(_open_request(bad_credentials_system, draft))
        assert refused.value.non_retryable
        assert refused.value.type == "CredentialsRejected"
        message = refused.value.message
        assert message.startswith(f"{bad_credentials_system.name}: credentials rejected")
        _no_secret_in(message, emulator.secrets)
        assert emulator.requests == before + 1
        assert emulator.tickets_created == 0

    async def test_nothing_secret_is_in_a_ticket_reference(
        self, emulator: EmulatedTicketing, system: TicketSystem, draft: TicketDraft
    ) -> None:
        opened = await _ticket_activities(system).open_ticket(_open_request(system, draft))
        _no_secret_in(opened.model_dump_json(), emulator.secrets)


class EmulatedPaging(Protocol):
    """What the pager contract needs of a paging emulator."""

    secrets: list[str]

    @property
    def alerts_opened(self) -> int:
        """Alerts the service opened."""
        ...

    @property
    def requests(self) -> int:
        """Requests that reached the emulated service (every one, answered or not)."""
        ...

    def status_of(self, dedup_key: str) -> str | None:
        """triggered, acknowledged or resolved: the latest alert of the key (None: none)."""
        ...

    def throttle(self, times: int = 1, *, seconds: float = 1) -> None: ...


def _page(pager: Pager, action: PageAction, case_id: str) -> PageRequest:
    return PageRequest(
        pager=pager.name,
        action=action,
        case_id=case_id,
        summary=f"Case {case_id}: ransomware on ws-01 is not acknowledged",
    )


class PagerContract:
    """The inherited pager tests, through the `paging.page` activity. Fixtures:
    `emulator` (a running :class:`EmulatedPaging`), `pager` and `bad_credentials_pager`
    (configured against it), and `case_id`."""

    async def test_a_case_is_one_alert_acknowledged_and_resolved_with_it(
        self, emulator: EmulatedPaging, pager: Pager, case_id: str
    ) -> None:
        activities = PagingActivities(PagerRegistry([pager]))
        first = await activities.page(_page(pager, PageAction.TRIGGER, case_id))
        await activities.page(_page(pager, PageAction.TRIGGER, case_id))
        assert (first.pager, first.vendor, first.dedup_key) == (pager.name, pager.vendor, case_id)
        assert emulator.alerts_opened == 1
        assert emulator.status_of(case_id) == "triggered"
        await activities.page(_page(pager, PageAction.ACKNOWLEDGE, case_id))
        assert emulator.status_of(case_id) == "acknowledged"
        await activities.page(_page(pager, PageAction.RESOLVE, case_id))
        await activities.page(_page(pager, PageAction.RESOLVE, case_id))
        assert emulator.status_of(case_id) == "resolved"
        assert emulator.alerts_opened == 1

    async def test_a_rate_limit_is_backed_off_and_the_page_lands(
        self, emulator: EmulatedPaging, pager: Pager, case_id: str
    ) -> None:
        emulator.throttle(1)
        activities = PagingActivities(PagerRegistry([pager]))
        await activities.page(_page(pager, PageAction.TRIGGER, case_id))
        assert emulator.status_of(case_id) == "triggered"

    async def test_a_bad_credential_is_one_clear_error_not_retried(
        self, emulator: EmulatedPaging, bad_credentials_pager: Pager, case_id: str
    ) -> None:
        before = emulator.requests
        activities = PagingActivities(PagerRegistry([bad_credentials_pager]))
        with pytest.raises(ApplicationError) as refused:
            await activities.page(_page(bad_credentials_pager, PageAction.TRIGGER, case_id))
        assert refused.value.non_retryable
        assert refused.value.type == "CredentialsRejected"
        message = refused.value.message
        assert message.startswith(f"{bad_credentials_pager.name}: credentials rejected")
        _no_secret_in(message, emulator.secrets)
        assert emulator.requests == before + 1
        assert emulator.alerts_opened == 0

    async def test_nothing_secret_is_in_a_receipt(
        self, emulator: EmulatedPaging, pager: Pager, case_id: str
    ) -> None:
        receipt = await PagingActivities(PagerRegistry([pager])).page(
            _page(pager, PageAction.TRIGGER, case_id)
        )
        _no_secret_in(receipt.model_dump_json(), emulator.secrets)

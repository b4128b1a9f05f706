"""The contracts every actuator and every enricher keep, as tests any integration runs
against its emulator (:class:`ActuatorContract`, :class:`EnricherContract`).

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
"""

from __future__ import annotations

from typing import Protocol

import pytest

from soar.alerts.models import Observable
from soar.containment.actuators import Actuator, ActuatorResult
from soar.containment.models import ContainmentCommand
from soar.enrichment.models import Verdict
from soar.enrichment.providers import Enricher
from soar.integrations.errors import CredentialsRejected, PermanentError, RequestRejected


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

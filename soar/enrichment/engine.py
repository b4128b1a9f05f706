"""The guarded lookup every enrichment goes through: triage, playbooks, `soar enrich` and
`GET /api/enrichment` alike.

For each observable and each configured source, in this order:

1. **Refused** — an observable that cannot be a value of its type (not an IP, an empty
   or non-hex hash) is looked up nowhere (:mod:`soar.enrichment.observables`).
2. **Internal** — a non-public address, an internal name, a user name is never sent to
   an outside source; local sources (the address classifier) still run, and the
   inventory answers for internal names (:mod:`soar.enrichment.exposure`).
3. **Type** — a source that does not look such observables up is skipped.
4. **Marking** — a source is asked only about observables marked at or below its
   `max_tlp`: "skipped: marked TLP:RED, above misp's limit (TLP:AMBER)".
5. **Cache** — an answer kept in the store under the source's current fingerprint
   (endpoint and credentials) and not expired is served without a call, unless the
   lookup is `fresh`. Time-to-live per verdict is the source's `ttl_seconds`.
6. **Refused key** — a source whose key was refused is reported once and not asked
   again until its key changes.
7. **Rate** — a source that asked to wait (429 past its `max_wait_seconds`) is skipped
   until the wait is over; otherwise a call slot at its `requests_per_minute` is booked
   and waited for, within `min(enrichment.max_wait_seconds, its max_wait_seconds)`;
   past that it is "skipped: rate limited" for this observable.
8. **Quota** — a source with a `daily_quota` has one lookup counted in the store (shared
   by every worker); past it, "skipped: daily quota used (500/500), resets 00:00 UTC".
9. **Call** — at most `enrichment.max_in_flight` calls at once across the process, each
   bounded by `enrichment.timeout_seconds`. The answer is cached with its raw vendor
   answer; what travels on (triage, API) leaves `data["raw"]` out.

Identical lookups in flight at once in this process (fifty alerts about one address)
are one lookup: every caller gets its answer. Nothing here raises for a source: a
failure or a skip is a line of the observable's combined verdict
(:mod:`soar.enrichment.combine`), and the triage goes on with what the others said.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from pydantic import SecretStr

from soar.alerts.models import Observable, ObservableType
from soar.enrichment.cache import (
    AnswerBook,
    Cached,
    MemoryBook,
    day_of,
    fingerprint,
    without_raw,
)
from soar.enrichment.combine import combine, result_of
from soar.enrichment.exposure import exposure
from soar.enrichment.inventory import Inventory
from soar.enrichment.limits import RateGate
from soar.enrichment.models import (
    Enrichment,
    ObservableVerdict,
    SkipKind,
    SourceResult,
    SourceStatus,
    Tlp,
    Verdict,
)
from soar.enrichment.observables import canonical, refusal
from soar.enrichment.settings import EnrichmentSettings
from soar.integrations.errors import (
    CredentialsRejected,
    RateLimited,
    RequestRejected,
    TargetNotFound,
)

if TYPE_CHECKING:
    from soar.enrichment.providers import Enricher

logger = logging.getLogger("soar.enrichment")

MAX_ERROR_CHARS = 200
DEFAULT_MAX_TLP = Tlp.AMBER
"""The limit of a source whose options do not say (EnricherOptions' own default)."""
MAX_JUDGEMENTS = 10_000
"""Observables whose refusal, spelling and exposure are remembered (then forgotten at once)."""
FALLBACK_TTL_SECONDS = 3600
"""How long an answer of a source that sets no time-to-live at all is kept."""


@runtime_checkable
class SourceOptions(Protocol):
    """What the engine reads of a source's options: the part of
    `integrations.core.enrichment.EnricherOptions` (and its `HttpOptions`) it enforces."""

    api_key: SecretStr | None
    max_tlp: Tlp
    ttl_seconds: dict[Verdict, int]
    daily_quota: int | None
    requests_per_minute: float | None
    max_wait_seconds: float

    def fingerprint_fields(self) -> dict[str, object]: ...


def _name_of(kind: ObservableType) -> str:
    return {ObservableType.IP: "IP addresse", ObservableType.HASH: "file hashe"}.get(
        kind, kind.value
    )


@dataclass
class Source:
    """One configured source and what the engine keeps about it in this process."""

    enricher: Enricher
    options: SourceOptions | None
    fingerprint: str
    local: bool
    gate: RateGate | None
    waiting_until: float = 0.0
    waiting_why: str = ""
    refused: tuple[str, str] | None = None
    """The fingerprint whose key was refused, and the words of the refusal."""

    @property
    def name(self) -> str:
        return self.enricher.name

    @property
    def max_tlp(self) -> Tlp:
        return self.options.max_tlp if self.options is not None else DEFAULT_MAX_TLP

    def ttl(self, verdict: Verdict) -> timedelta:
        """How long an answer with this verdict is kept: the source's `ttl_seconds`; a
        verdict they leave out is kept as long as the shortest one they give."""
        ttls = self.options.ttl_seconds if self.options is not None else {}
        seconds = ttls.get(verdict, min(ttls.values(), default=FALLBACK_TTL_SECONDS))
        return timedelta(seconds=seconds)

    @classmethod
    def of(cls, enricher: Enricher) -> Source:
        found = getattr(enricher, "options", None)
        options = found if isinstance(found, SourceOptions) else None
        rate = options.requests_per_minute if options is not None else None
        return cls(
            enricher=enricher,
            options=options,
            fingerprint=fingerprint(options.fingerprint_fields()) if options is not None else "",
            local=bool(getattr(enricher, "local", False)),
            gate=RateGate(rate) if rate else None,
        )


@dataclass
class Outcome:
    """What one source's lookup of one observable gave: its line in the verdict, the
    answer for triage, and a line for the triage's reasons when it failed."""

    result: SourceResult
    enrichment: Enrichment | None = None
    failure: str | None = None


@dataclass
class Report:
    """One observable's lookup: its combined verdict, the answers, the failure lines."""

    verdict: ObservableVerdict | None
    enrichments: list[Enrichment] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def _unsupported(source: Source, observable: Observable) -> Outcome:
    return _skipped(source, SkipKind.UNSUPPORTED, f"does not look up {_name_of(observable.type)}s")


def _skipped(source: Source, kind: SkipKind, why: str) -> Outcome:
    return Outcome(
        SourceResult(provider=source.name, status=SourceStatus.SKIPPED, reason=why, skip=kind)
    )


class EnrichmentEngine:
    """The guarded lookup (see the module docstring), one per registry of sources.

    `book` keeps answers and quota counts (the case store's :class:`StoreBook` in the
    product; this process's memory by default); `inventory` answers for internal names.
    """

    def __init__(
        self,
        enrichers: Sequence[Enricher],
        settings: EnrichmentSettings,
        *,
        book: AnswerBook | None = None,
        inventory: Inventory | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.sources = [Source.of(enricher) for enricher in enrichers]
        self.book: AnswerBook = book or MemoryBook()
        self.inventory = inventory or Inventory()
        self._clock = clock
        self._monotonic = monotonic
        self._pending: dict[tuple[str, str, str, bool], asyncio.Task[Outcome]] = {}
        self._judgements: dict[
            tuple[ObservableType, str], tuple[str | None, Observable, str | None]
        ] = {}
        self._in_flight = asyncio.Semaphore(settings.max_in_flight)
        self.calls: Counter[str] = Counter()
        """Lookups sent to each source (for benchmarks and `soar integrations check`)."""
        self.cache_hits: Counter[str] = Counter()
        """Lookups of each source answered from the cache."""

    def use(self, *, book: AnswerBook | None = None, inventory: Inventory | None = None) -> None:
        """Keep answers in `book` and answer internal names from `inventory` from now on
        (the worker hands over the case store and the inventory when it starts)."""
        if book is not None:
            self.book = book
        if inventory is not None:
            self.inventory = inventory
            self._judgements.clear()

    def _judged(self, observable: Observable) -> tuple[str | None, Observable, str | None]:
        """Why the observable is refused, its canonical spelling, and why it must not
        leave — remembered per value, since a storm asks about the same ones again."""
        key = (observable.type, observable.value)
        judged = self._judgements.get(key)
        if judged is None:
            refused = refusal(observable)
            spelled = canonical(observable) if refused is None else observable
            internal = (
                exposure(spelled, self.settings.internal_suffixes, self.inventory)
                if refused is None
                else None
            )
            judged = (refused, spelled, internal)
            if len(self._judgements) >= MAX_JUDGEMENTS:
                self._judgements.clear()
            self._judgements[key] = judged
        return judged

    async def flush(self) -> None:
        """Wait until every answer is kept (the store's are written behind the lookups)."""
        await self.book.flush()

    def source(self, name: str) -> Source | None:
        """The configured source named `name`."""
        return next((source for source in self.sources if source.name == name), None)

    async def run(
        self, observables: Sequence[Observable], *, tlp: Tlp | None = None, fresh: bool = False
    ) -> list[Report]:
        """Every observable looked up as the module docstring says, concurrently, in the
        order given (an observable spelled twice is looked up once)."""
        seen: set[tuple[ObservableType, str]] = set()
        unique: list[Observable] = []
        for observable in observables:
            key = (observable.type, self._judged(observable)[1].value)
            if key not in seen:
                seen.add(key)
                unique.append(observable)
        limit = asyncio.Semaphore(self.settings.max_concurrency)
        return list(
            await asyncio.gather(
                *(self.lookup(o, tlp=tlp, fresh=fresh, limit=limit) for o in unique)
            )
        )

    async def lookup(
        self,
        observable: Observable,
        *,
        tlp: Tlp | None = None,
        fresh: bool = False,
        limit: asyncio.Semaphore | None = None,
        always: bool = False,
    ) -> Report:
        """One observable through every source; never raises for a source's failure. The
        report has no verdict when no outside source looks such observables up, unless
        `always` (an operator asked about it)."""
        marking = tlp or self.settings.default_tlp
        refused, spelled, internal = self._judged(observable)
        if refused is not None:
            return Report(combine(observable, [], tlp=marking, refused=refused))
        observable = (
            spelled
            if spelled.role is observable.role
            else observable.model_copy(update={"value": spelled.value})
        )
        outcomes: list[Outcome | None] = []
        waiting: list[int] = []
        now = self._clock()
        for index, source in enumerate(self.sources):
            if not source.enricher.supports(observable):
                outcomes.append(None if source.local else _unsupported(source, observable))
            elif source.local:
                outcomes.append(await self._local(source, observable))
            else:
                outcomes.append(
                    self._without_call(source, observable, marking, internal, fresh, now)
                )
                if outcomes[-1] is None:
                    waiting.append(index)
        if waiting:
            limit = limit or asyncio.Semaphore(self.settings.max_concurrency)
            found = await asyncio.gather(
                *(self._limited(self.sources[i], observable, fresh, limit) for i in waiting)
            )
            for index, outcome in zip(waiting, found, strict=True):
                outcomes[index] = outcome
        shown = [(source, o) for source, o in zip(self.sources, outcomes, strict=True) if o]
        enrichments = [o.enrichment for _, o in shown if o.enrichment is not None]
        failures = [o.failure for _, o in shown if o.failure is not None]
        results = [
            o.result
            for source, o in shown
            if not source.local or o.result.verdict not in (None, Verdict.UNKNOWN)
        ]
        if all(r.skip is SkipKind.UNSUPPORTED for r in results) and not always:
            return Report(None, enrichments, failures)
        verdict = combine(observable, results, tlp=marking, internal=internal)
        if internal is not None:
            verdict = self._with_inventory(verdict)
        return Report(verdict, enrichments, failures)

    def _without_call(
        self,
        source: Source,
        observable: Observable,
        tlp: Tlp,
        internal: str | None,
        fresh: bool,
        now: datetime,
    ) -> Outcome | None:
        """An outside source's part when it needs no waiting — skipped for what must not
        leave, or answered from the memory of the cache — else None (steps 2 to 5)."""
        if internal is not None:
            return _skipped(source, SkipKind.INTERNAL, f"{internal}: never sent out")
        if tlp.rank > source.max_tlp.rank:
            return _skipped(
                source,
                SkipKind.MARKING,
                f"marked {tlp.label}, above {source.name}'s limit ({source.max_tlp.label})",
            )
        if fresh or self._key(source, observable, fresh) in self._pending:
            return None
        known, cached = self.book.peek(source.name, observable, source.fingerprint, now)
        if not known or cached is None:
            return None
        self.cache_hits[source.name] += 1
        return self._answered(source, observable, cached)

    async def _limited(
        self, source: Source, observable: Observable, fresh: bool, limit: asyncio.Semaphore
    ) -> Outcome:
        async with limit:
            return await self._coalesced(source, observable, fresh)

    @staticmethod
    def _key(source: Source, observable: Observable, fresh: bool) -> tuple[str, str, str, bool]:
        return (source.name, observable.type.value, observable.value, fresh)

    async def _local(self, source: Source, observable: Observable) -> Outcome | None:
        """A source that reaches nothing outside: called as is, never cached."""
        outcome = await self._call(source, observable)
        if outcome.enrichment is None and outcome.failure is None:
            return None
        return outcome

    async def _coalesced(self, source: Source, observable: Observable, fresh: bool) -> Outcome:
        """The lookup, shared with every identical one in flight in this process. The
        shared lookup is shielded: a caller that gives up does not cancel the others'."""
        key = self._key(source, observable, fresh)
        task = self._pending.get(key)
        if task is None:
            task = asyncio.create_task(self._guarded(source, observable, fresh))
            self._pending[key] = task
            task.add_done_callback(lambda _: self._pending.pop(key, None))
        outcome = await asyncio.shield(task)
        if outcome.enrichment is not None and outcome.enrichment.observable != observable:
            # The shared answer names the observable in the role the first caller gave it.
            outcome = Outcome(
                outcome.result,
                outcome.enrichment.model_copy(update={"observable": observable}),
                outcome.failure,
            )
        return outcome

    async def _guarded(self, source: Source, observable: Observable, fresh: bool) -> Outcome:
        """Steps 5 to 9 of the module docstring for one source."""
        now = self._clock()
        if not fresh:
            cached = await self._cached(source, observable, now)
            if cached is not None:
                self.cache_hits[source.name] += 1
                return self._answered(source, observable, cached)
        if source.refused is not None and source.refused[0] == source.fingerprint:
            return _skipped(
                source,
                SkipKind.CREDENTIALS,
                f"its key was refused ({source.refused[1]}); not asked again until it changes",
            )
        waiting = source.waiting_until - self._monotonic()
        if waiting > 0:
            return _skipped(
                source,
                SkipKind.RATE_LIMITED,
                f"rate limited: {source.waiting_why}; asked again in {waiting:.0f} s",
            )
        bound = self._wait_bound(source)
        if source.gate is not None:
            wait = source.gate.reserve(bound)
            if wait is None:
                return _skipped(
                    source,
                    SkipKind.RATE_LIMITED,
                    f"rate limited: no call slot within {bound:g} s at "
                    f"{source.gate.per_minute:g} a minute",
                )
            await asyncio.sleep(wait)
        quota = source.options.daily_quota if source.options is not None else None
        if quota is not None:
            granted, used = await self.book.take_quota(source.name, day_of(now), quota)
            if not granted:
                return _skipped(
                    source,
                    SkipKind.QUOTA,
                    f"daily quota used ({used}/{quota}), resets 00:00 UTC",
                )
        try:
            async with asyncio.timeout(bound):
                await self._in_flight.acquire()
        except TimeoutError:
            return _skipped(
                source,
                SkipKind.RATE_LIMITED,
                f"busy: {self.settings.max_in_flight} lookups already in flight for {bound:g} s",
            )
        try:
            self.calls[source.name] += 1
            return await self._call(source, observable, cache=True)
        finally:
            self._in_flight.release()

    def _wait_bound(self, source: Source) -> float:
        own = source.options.max_wait_seconds if source.options is not None else None
        bound = self.settings.max_wait_seconds
        return min(bound, own) if own is not None else bound

    async def _cached(self, source: Source, observable: Observable, now: datetime) -> Cached | None:
        try:
            return await self.book.get(source.name, observable, source.fingerprint, now)
        except Exception:
            logger.warning("could not read the enrichment cache", exc_info=True)
            return None

    async def _call(
        self, source: Source, observable: Observable, *, cache: bool = False
    ) -> Outcome:
        """Ask the source, and read what it raised into a line (never raises)."""
        seconds = self.settings.timeout_seconds
        try:
            async with asyncio.timeout(seconds):
                answer = await source.enricher.enrich(observable)
        except TimeoutError:
            return self._failed(
                source,
                observable,
                f"timed out after {seconds:g} s",
                f"enricher {source.name} timed out on {observable.value} after {seconds:g} s",
            )
        except CredentialsRejected as error:
            return self._refused_key(source, observable, error)
        except RateLimited as error:
            source.waiting_until = self._monotonic() + error.retry_after
            source.waiting_why = f"{source.name} asked to wait {error.retry_after:.0f} s"
            return _skipped(source, SkipKind.RATE_LIMITED, f"rate limited: {error.reason}")
        except TargetNotFound:
            answer = None
        except RequestRejected as error:
            if error.status is None:
                return _skipped(source, SkipKind.UNSUPPORTED, f"cannot look it up: {error.reason}")
            return self._failed_with(source, observable, error)
        except Exception as error:
            logger.warning("enricher %s failed on %s", source.name, observable.value, exc_info=True)
            return self._failed_with(source, observable, error)
        if answer is not None:
            answer = answer.model_copy(update={"provider": source.name, "observable": observable})
        if cache:
            await self._keep(source, observable, answer)
        return self._answered(source, observable, answer)

    async def _keep(
        self, source: Source, observable: Observable, answer: Enrichment | None
    ) -> None:
        fetched = self._clock()
        verdict = answer.verdict if answer is not None else Verdict.UNKNOWN
        try:
            await self.book.put(
                source.name,
                observable,
                source.fingerprint,
                answer,
                fetched_at=fetched,
                expires_at=fetched + source.ttl(verdict),
            )
        except Exception:
            logger.warning("could not cache %s's answer", source.name, exc_info=True)

    def _answered(
        self, source: Source, observable: Observable, answer: Enrichment | Cached | None
    ) -> Outcome:
        """A source's answer — fresh, or cached (`Cached`) — as its outcome."""
        cached = answer if isinstance(answer, Cached) else None
        light = cached.light if cached is not None else answer
        fetched = cached.fetched_at if cached is not None else None
        if not isinstance(light, Enrichment):
            return Outcome(
                SourceResult(
                    provider=source.name,
                    status=SourceStatus.ANSWERED,
                    verdict=Verdict.UNKNOWN,
                    score=0,
                    reason=f"{source.name} knows nothing about it",
                    cached=cached is not None,
                    fetched_at=fetched,
                )
            )
        if light.observable != observable:
            light = light.model_copy(update={"observable": observable})
        if cached is None:
            light = without_raw(light)
        return Outcome(result_of(light, cached=cached is not None, fetched_at=fetched), light)

    def _refused_key(
        self, source: Source, observable: Observable, error: CredentialsRejected
    ) -> Outcome:
        no_key = source.options is not None and source.options.api_key is None
        words = f"no API key is configured and {error.reason}" if no_key else error.reason
        source.refused = (source.fingerprint, words[:MAX_ERROR_CHARS])
        result = SourceResult(
            provider=source.name,
            status=SourceStatus.FAILED,
            reason=f"{'no key' if no_key else 'key refused'}: {words[:MAX_ERROR_CHARS]}",
            skip=SkipKind.NO_KEY if no_key else SkipKind.CREDENTIALS,
        )
        failure = (
            f"enricher {source.name} failed on {observable.value}: "
            f"{type(error).__name__}: {str(error)[:MAX_ERROR_CHARS]}; not asked again until "
            "its key changes"
        )
        return Outcome(result, failure=failure)

    def _failed_with(self, source: Source, observable: Observable, error: Exception) -> Outcome:
        message = str(error)[:MAX_ERROR_CHARS]
        return self._failed(
            source,
            observable,
            f"{type(error).__name__}: {message}",
            f"enricher {source.name} failed on {observable.value}: "
            f"{type(error).__name__}: {message}",
        )

    @staticmethod
    def _failed(source: Source, observable: Observable, why: str, line: str) -> Outcome:
        return Outcome(
            SourceResult(provider=source.name, status=SourceStatus.FAILED, reason=why),
            failure=line,
        )

    def _with_inventory(self, verdict: ObservableVerdict) -> ObservableVerdict:
        """An internal name's verdict with what the inventory says of it."""
        observable = verdict.observable
        if observable.type not in (ObservableType.HOSTNAME, ObservableType.DOMAIN):
            return verdict
        asset = self.inventory.host(observable.value)
        if asset is None:
            said = f"inventory: {observable.value} is not in the inventory"
        else:
            facts = [f"criticality {asset.criticality.value}"]
            facts.append(f"owner {asset.owner}" if asset.owner else "no owner on record")
            if asset.tags:
                facts.append(f"tagged {', '.join(asset.tags)}")
            said = f"inventory: {asset.hostname}, {', '.join(facts)}"
        return verdict.model_copy(update={"reasons": [*verdict.reasons, said]})

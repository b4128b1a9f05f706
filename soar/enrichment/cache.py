"""Where answers and quota counts are kept: the case store, or this process alone.

The engine asks an :class:`AnswerBook` for a provider's cached answer about an
observable and counts lookups against daily quotas through it.

- :class:`StoreBook` keeps both in the case store (`enrichment_answers`,
  `enrichment_quotas`), so every worker shares them and they survive restarts. A small
  memory of recent reads sits in front of it (at most a minute old), so an alert storm
  does not read the same rows a thousand times; an answer another process wrote (a
  `--fresh` lookup) is seen within that minute. Answers are written behind the
  lookups, in batches.
- :class:`MemoryBook` keeps them in this process (tests, `soar playbooks test`).

An answer is served only under the fingerprint it was fetched with: a hash of the
provider's endpoint and credentials (:func:`fingerprint`), never the secret itself.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from soar.alerts.models import Observable
from soar.enrichment.models import Enrichment, Verdict
from soar.store.mapping import observable_digest
from soar.store.repository import Repository
from soar.store.views import StoredAnswer

logger = logging.getLogger("soar.enrichment")

MEMORY_SECONDS = 60.0
"""How long a read of the store is trusted without reading it again."""
KEEP_QUOTA_DAYS = 7
FORGET_EVERY = timedelta(hours=1)
FINGERPRINT_LABEL = b"soar-enrichment-cache-v1\0"


def fingerprint(fields: dict[str, object]) -> str:
    """A hash of what identifies the account a provider's options reach (see
    `IntegrationOptions.fingerprint_fields`). Only the hash is stored.

    The same options hash the same in every process: a set (Shodan's tag lists) is
    hashed sorted, not in its iteration order, which Python's per-process string hashing
    changes from run to run (the API's lookups then missed the worker's cache)."""
    material = json.dumps(fields, sort_keys=True, default=_canonical)
    return hashlib.sha256(FINGERPRINT_LABEL + material.encode("utf-8", "surrogatepass")).hexdigest()


def _canonical(value: object) -> object:
    """What JSON cannot hold, in a form that does not depend on the process."""
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)


def day_of(at: datetime) -> str:
    """The UTC day quotas are counted on, `YYYY-MM-DD`."""
    return at.astimezone(UTC).date().isoformat()


@dataclass(frozen=True)
class Cached:
    """A cached answer: the Enrichment (raw answer included), or None when the provider
    knew nothing, and when it was fetched. `light` is the Enrichment as it travels on
    (:func:`without_raw`), made once."""

    enrichment: Enrichment | None
    fetched_at: datetime
    expires_at: datetime
    light: Enrichment | None = field(default=None, compare=False)

    @classmethod
    def of(
        cls, enrichment: Enrichment | None, fetched_at: datetime, expires_at: datetime
    ) -> Cached:
        light = without_raw(enrichment) if enrichment is not None else None
        return cls(enrichment, fetched_at, expires_at, light)


def without_raw(enrichment: Enrichment) -> Enrichment:
    """The answer as it travels on (triage, the API): the vendor's raw answer stays in
    the store."""
    if "raw" not in enrichment.data:
        return enrichment
    data = {key: value for key, value in enrichment.data.items() if key != "raw"}
    return enrichment.model_copy(update={"data": data})


@dataclass(frozen=True)
class QuotaState:
    """A provider's daily quota today."""

    limit: int
    used: int

    @property
    def left(self) -> int:
        return max(0, self.limit - self.used)

    def line(self) -> str:
        """For `soar integrations check NAME`."""
        return (
            f"daily quota: {self.used} of {self.limit} lookups used today, {self.left} left; "
            "resets 00:00 UTC"
        )


class AnswerBook(Protocol):
    """Cached answers and quota counts (see the module docstring)."""

    async def get(
        self, provider: str, observable: Observable, fingerprint: str, now: datetime
    ) -> Cached | None:
        """The provider's unexpired answer about the observable under this fingerprint."""
        ...

    def peek(
        self, provider: str, observable: Observable, fingerprint: str, now: datetime
    ) -> tuple[bool, Cached | None]:
        """What :meth:`get` would answer, when it is known without reading anything:
        (True, the answer or None), else (False, None)."""
        ...

    async def put(
        self,
        provider: str,
        observable: Observable,
        fingerprint: str,
        enrichment: Enrichment | None,
        *,
        fetched_at: datetime,
        expires_at: datetime,
    ) -> None:
        """Keep the provider's answer until `expires_at`."""
        ...

    async def take_quota(self, provider: str, day: str, limit: int) -> tuple[bool, int]:
        """Count one lookup against the provider's quota of the day, unless used up:
        whether granted, and how many are used now."""
        ...

    async def quota_used(self, provider: str, day: str) -> int:
        """Lookups counted against the provider's quota of the day."""
        ...

    async def flush(self) -> None:
        """Wait until every answer put so far is kept."""
        ...


def _cached(stored: StoredAnswer) -> Cached:
    enrichment = Enrichment.model_validate(stored.answer) if stored.answer is not None else None
    return Cached.of(enrichment, stored.fetched_at, stored.expires_at)


def _stored(
    provider: str,
    observable: Observable,
    fingerprint: str,
    enrichment: Enrichment | None,
    fetched_at: datetime,
    expires_at: datetime,
) -> StoredAnswer:
    return StoredAnswer(
        provider=provider,
        digest=observable_digest(observable.type.value, observable.value),
        type=observable.type.value,
        value=observable.value,
        fingerprint=fingerprint,
        verdict=(enrichment.verdict if enrichment else Verdict.UNKNOWN).value,
        answer=enrichment.model_dump(mode="json") if enrichment is not None else None,
        fetched_at=fetched_at,
        expires_at=expires_at,
    )


class MemoryBook:
    """Answers and quota counts of this process only."""

    def __init__(self) -> None:
        self.answers: dict[tuple[str, str], StoredAnswer] = {}
        self.quotas: dict[tuple[str, str], int] = {}

    async def get(
        self, provider: str, observable: Observable, fingerprint: str, now: datetime
    ) -> Cached | None:
        return self.peek(provider, observable, fingerprint, now)[1]

    def peek(
        self, provider: str, observable: Observable, fingerprint: str, now: datetime
    ) -> tuple[bool, Cached | None]:
        stored = self.answers.get(
            (provider, observable_digest(observable.type.value, observable.value))
        )
        if stored is None or stored.fingerprint != fingerprint or stored.expires_at <= now:
            return True, None
        return True, _cached(stored)

    async def put(
        self,
        provider: str,
        observable: Observable,
        fingerprint: str,
        enrichment: Enrichment | None,
        *,
        fetched_at: datetime,
        expires_at: datetime,
    ) -> None:
        stored = _stored(provider, observable, fingerprint, enrichment, fetched_at, expires_at)
        self.answers[(provider, stored.digest)] = stored

    async def take_quota(self, provider: str, day: str, limit: int) -> tuple[bool, int]:
        used = self.quotas.get((provider, day), 0)
        if used >= limit:
            return False, used
        self.quotas[(provider, day)] = used + 1
        return True, used + 1

    async def quota_used(self, provider: str, day: str) -> int:
        return self.quotas.get((provider, day), 0)

    async def flush(self) -> None:
        """Nothing to wait for: answers are kept at once."""


class StoreBook:
    """Answers and quota counts in the case store, shared by every worker (see the
    module docstring). `memory_entries` bounds the memory in front of it (0: none).

    A read fetches every provider's answer about the observable at once (one read per
    observable, shared by the lookups asking at the same time), and is trusted for
    MEMORY_SECONDS, absent answers included. Answers are written behind the lookup, many
    in one transaction, so a storm's lookups never queue behind the store's writer;
    :meth:`flush` waits for what is still to be written (before a short-lived process
    such as `soar enrich` ends).
    """

    def __init__(self, store: Repository, *, memory_entries: int = 10_000) -> None:
        self.store = store
        self.memory_entries = memory_entries
        self._memory: OrderedDict[str, tuple[datetime, dict[str, _Answer]]] = OrderedDict()
        self._reading: dict[str, asyncio.Task[dict[str, _Answer]]] = {}
        self._unwritten: list[StoredAnswer] = []
        self._writer: asyncio.Task[None] | None = None
        self._forgot_at: datetime | None = None

    async def get(
        self, provider: str, observable: Observable, fingerprint: str, now: datetime
    ) -> Cached | None:
        known, cached = self.peek(provider, observable, fingerprint, now)
        if known:
            return cached
        digest = observable_digest(observable.type.value, observable.value)
        return _usable((await self._read(digest, now)).get(provider), fingerprint, now)

    def peek(
        self, provider: str, observable: Observable, fingerprint: str, now: datetime
    ) -> tuple[bool, Cached | None]:
        digest = observable_digest(observable.type.value, observable.value)
        remembered = self._memory.get(digest)
        if remembered is None or now - remembered[0] >= timedelta(seconds=MEMORY_SECONDS):
            return False, None
        self._memory.move_to_end(digest)
        return True, _usable(remembered[1].get(provider), fingerprint, now)

    async def put(
        self,
        provider: str,
        observable: Observable,
        fingerprint: str,
        enrichment: Enrichment | None,
        *,
        fetched_at: datetime,
        expires_at: datetime,
    ) -> None:
        stored = _stored(provider, observable, fingerprint, enrichment, fetched_at, expires_at)
        remembered = self._memory.get(stored.digest)
        if remembered is not None:
            remembered[1][provider] = _Answer(stored, Cached.of(enrichment, fetched_at, expires_at))
        self._unwritten.append(stored)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_behind())

    async def flush(self) -> None:
        """Wait until every answer put so far is written."""
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    async def take_quota(self, provider: str, day: str, limit: int) -> tuple[bool, int]:
        return await self.store.take_enrichment_quota(provider, day, limit)

    async def quota_used(self, provider: str, day: str) -> int:
        return await self.store.enrichment_quota_used(provider, day)

    async def _read(self, digest: str, now: datetime) -> dict[str, _Answer]:
        task = self._reading.get(digest)
        if task is None:
            task = asyncio.create_task(self._read_now(digest, now))
            self._reading[digest] = task
            task.add_done_callback(lambda _: self._reading.pop(digest, None))
        return await asyncio.shield(task)

    async def _read_now(self, digest: str, now: datetime) -> dict[str, _Answer]:
        rows = await self.store.get_enrichment_answers(digest)
        answers = {row.provider: _Answer(row, _cached(row)) for row in rows}
        if self.memory_entries > 0:
            self._memory[digest] = (now, answers)
            self._memory.move_to_end(digest)
            while len(self._memory) > self.memory_entries:
                self._memory.popitem(last=False)
        return answers

    async def _write_behind(self) -> None:
        """Write what was put, in batches, until nothing is left (never fails a lookup)."""
        while self._unwritten:
            batch, self._unwritten = self._unwritten, []
            try:
                await self.store.save_enrichment_answers(batch)
            except Exception:
                logger.warning("could not cache %d enrichment answers", len(batch), exc_info=True)
            await self._forget_old(batch[-1].fetched_at)

    async def _forget_old(self, now: datetime) -> None:
        """Now and then, drop what expired and old quota days (never fails a lookup)."""
        if self._forgot_at is not None and now - self._forgot_at < FORGET_EVERY:
            return
        self._forgot_at = now
        oldest_day = date.fromisoformat(day_of(now)) - timedelta(days=KEEP_QUOTA_DAYS)
        try:
            await self.store.forget_enrichment(
                expired_before=now, days_before=oldest_day.isoformat()
            )
        except Exception:
            logger.warning("could not drop expired enrichment answers", exc_info=True)


def _usable(found: _Answer | None, fingerprint: str, now: datetime) -> Cached | None:
    """The answer, if it was fetched under this fingerprint and has not expired."""
    if found is None or found.stored.fingerprint != fingerprint or found.stored.expires_at <= now:
        return None
    return found.cached


@dataclass(frozen=True)
class _Answer:
    """A stored answer and its parsed form (parsed once per read, not per lookup)."""

    stored: StoredAnswer
    cached: Cached


async def remaining_quota(
    book: AnswerBook, provider: str, limit: int | None, now: datetime | None = None
) -> QuotaState | None:
    """The provider's quota today, or None when it has none (`daily_quota` unset)."""
    if limit is None:
        return None
    used = await book.quota_used(provider, day_of(now or datetime.now(UTC)))
    return QuotaState(limit=limit, used=used)

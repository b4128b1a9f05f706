"""The guarded lookup against the vendors' emulators over real HTTP: the cache, coalescing,
the limiter and the in-flight cap, quotas, failures kept to their source, refused keys."""

from __future__ import annotations

import asyncio
from pathlib import Path

from soar.enrichment.activities import TriageActivities, run_enrichers
from soar.enrichment.cache import StoreBook, remaining_quota
from soar.enrichment.inventory import Inventory
from soar.enrichment.models import SkipKind, SourceStatus, Verdict
from soar.store.mapping import observable_digest
from soar.testing.emulators.abuseipdb import AbuseIpdbEmulator
from soar.testing.emulators.greynoise import GreyNoiseEmulator

from .support import (
    BAD,
    SlowIntel,
    abuseipdb,
    alert,
    close,
    greynoise,
    ip,
    open_store,
    public_ips,
    registry,
    slow_intel,
)


def _seeded() -> tuple[AbuseIpdbEmulator, GreyNoiseEmulator]:
    abuse = AbuseIpdbEmulator()
    abuse.add_ip(BAD, score=100, reports=523, users=97)
    noise = GreyNoiseEmulator(daily_limit=10_000)
    noise.add_ip(BAD, classification="malicious", name="Mirai")
    return abuse, noise


async def test_the_cache_spares_repeated_lookups_also_across_a_restart(tmp_path: Path) -> None:
    abuse, _ = _seeded()
    async with abuse:
        store = await open_store(tmp_path / "store.sqlite3")
        first = registry(abuseipdb(abuse), store=store)
        runs = [await run_enrichers(first, [ip(BAD)]) for _ in range(3)]
        await close(first)
        await store.close()
        assert abuse.lookups == 1

        store = await open_store(tmp_path / "store.sqlite3")  # a restarted worker
        second = registry(abuseipdb(abuse), store=store)
        again = await run_enrichers(second, [ip(BAD)])
        fresh = await run_enrichers(second, [ip(BAD)], fresh=True)
        await close(second)
        await store.close()

    assert abuse.lookups == 2  # only the fresh lookup called again
    [source] = again.verdicts[0].sources
    assert source.cached and source.fetched_at is not None
    assert again.verdicts[0].verdict is Verdict.MALICIOUS
    assert not fresh.verdicts[0].sources[0].cached
    assert [run.verdicts[0].sources[0].cached for run in runs] == [False, True, True]
    assert all("raw" not in e.data for run in runs for e in run.enrichments)


async def test_fifty_concurrent_alerts_about_one_address_cost_one_call_per_source(
    tmp_path: Path,
) -> None:
    abuse, noise = _seeded()
    async with abuse, noise:
        store = await open_store(tmp_path / "store.sqlite3")
        built = registry(abuseipdb(abuse), greynoise(noise), store=store)
        activities = TriageActivities(Inventory(), built)
        abuse.hold("GET", "/api/v2/check")  # the first call is answered only when released
        storm = [
            asyncio.create_task(activities.triage_alert(alert(ip(BAD), key=str(n))))
            for n in range(50)
        ]
        await abuse.holding.wait()
        in_flight_calls = abuse.lookups
        abuse.release()
        triages = await asyncio.gather(*storm)
        await close(built)
        await store.close()

    assert in_flight_calls == 1
    assert (abuse.lookups, noise.lookups) == (1, 1)
    assert {t.verdict for t in triages} == {Verdict.MALICIOUS}
    assert all(t.verdict_of(BAD) is not None for t in triages)
    assert triages[-1].verdict_of(BAD).by == ["abuseipdb", "greynoise"]  # type: ignore[union-attr]


async def test_the_limiter_holds_the_rate_under_a_burst_and_waits_rather_than_fails() -> None:
    abuse = AbuseIpdbEmulator()
    addresses = public_ips(25)
    async with abuse:
        built = registry(abuseipdb(abuse, requests_per_minute=600))  # 10 a second, burst 10
        run = await run_enrichers(built, [ip(a) for a in addresses])
        await close(built)

    statuses = [v.sources[0].status for v in run.verdicts]
    assert statuses == [SourceStatus.ANSWERED] * 25 and not run.failures
    times = sorted(call.at for call in abuse.calls)
    for n, at in enumerate(times):
        # Call n cannot come before the burst of 10 plus one more every 0.1 s allows. The
        # times are when the emulator saw each call, so the first may have reached it late:
        # one release interval of that jitter is allowed, never a call more than the rate.
        assert at - times[0] >= (n - 10) * 0.1 - 0.05, (n, at - times[0])
    assert times[-1] - times[0] >= 1.4


async def test_past_the_wait_bound_a_source_is_skipped_for_that_observable_only() -> None:
    abuse = AbuseIpdbEmulator()
    first, second = public_ips(2)
    async with abuse:
        built = registry(abuseipdb(abuse, requests_per_minute=6), max_wait_seconds=0.5)
        run = await run_enrichers(built, [ip(first), ip(second)])
        await close(built)

    answered, skipped = (v.sources[0] for v in run.verdicts)
    assert answered.status is SourceStatus.ANSWERED
    assert skipped.status is SourceStatus.SKIPPED and skipped.skip is SkipKind.RATE_LIMITED
    assert skipped.reason == "rate limited: no call slot within 0.5 s at 6 a minute"
    assert abuse.lookups == 1 and not run.failures


async def test_a_source_down_or_rate_limited_leaves_the_others_answers_intact() -> None:
    abuse, noise = _seeded()
    other = public_ips(1)[0]
    async with abuse, noise:
        built = registry(abuseipdb(abuse, max_wait_seconds=1), greynoise(noise))
        activities = TriageActivities(Inventory(), built)
        noise.outage()
        abuse.throttle(1, seconds=120)
        down = await activities.triage_alert(alert(ip(BAD)))
        later = await activities.triage_alert(alert(ip(other), key="2"))
        await close(built)

    sources = {s.provider: s for s in down.verdict_of(BAD).sources}  # type: ignore[union-attr]
    assert sources["greynoise"].status is SourceStatus.FAILED
    assert "503" in (sources["greynoise"].reason or "")
    assert sources["abuseipdb"].skip is SkipKind.RATE_LIMITED
    assert any(r.startswith("enricher greynoise failed on") for r in down.reasons)
    assert down.score >= 40  # the triage completed on the severity alone
    waiting = {s.provider: s for s in later.verdict_of(other).sources}  # type: ignore[union-attr]
    assert waiting["abuseipdb"].skip is SkipKind.RATE_LIMITED  # the vendor's wait is kept...
    assert "asked to wait 120 s" in (waiting["abuseipdb"].reason or "")
    assert abuse.lookups == 1  # ...without calling it again
    assert waiting["greynoise"].status is SourceStatus.ANSWERED


async def test_a_bad_key_is_reported_once_and_not_retried() -> None:
    abuse, noise = _seeded()
    async with abuse, noise:
        built = registry(abuseipdb(abuse, api_key="not-the-key"), greynoise(noise))
        activities = TriageActivities(Inventory(), built)
        first = await activities.triage_alert(alert(ip(BAD)))
        others = [
            await activities.triage_alert(alert(ip(a), key=a)) for a in public_ips(3, third=9)
        ]
        await close(built)

    assert abuse.lookups == 1
    refused = [r for r in first.reasons if r.startswith("enricher abuseipdb failed")]
    assert len(refused) == 1 and "not asked again until its key changes" in refused[0]
    assert "not-the-key" not in first.model_dump_json()
    assert first.verdict is Verdict.MALICIOUS  # greynoise still answered
    for triage in others:
        [verdict] = triage.observables
        sources = {s.provider: s for s in verdict.sources}
        assert sources["abuseipdb"].skip is SkipKind.CREDENTIALS
        assert not any("abuseipdb" in r for r in triage.reasons if "failed" in r)


async def test_the_global_cap_holds_calls_in_flight_across_alerts() -> None:
    intel = SlowIntel(delay=0.1)
    async with intel:
        built = registry(slow_intel(intel), max_in_flight=3)
        activities = TriageActivities(Inventory(), built)
        triages = await asyncio.gather(
            *(activities.triage_alert(alert(ip(a), key=a)) for a in public_ips(12, third=11))
        )
        await close(built)

    assert intel.lookups == 12 and intel.most_in_flight == 3
    assert {t.verdict for t in triages} == {Verdict.MALICIOUS}


async def test_daily_quotas_are_counted_in_the_store_across_workers(tmp_path: Path) -> None:
    abuse = AbuseIpdbEmulator()
    addresses = public_ips(3, third=12)
    async with abuse:
        store = await open_store(tmp_path / "store.sqlite3")
        one = registry(abuseipdb(abuse, daily_quota=2), store=store)
        two = registry(abuseipdb(abuse, daily_quota=2), store=store)  # another worker
        await run_enrichers(one, [ip(addresses[0])])
        await run_enrichers(two, [ip(addresses[1])])
        spent = await run_enrichers(one, [ip(addresses[2])])
        left = await remaining_quota(StoreBook(store), "abuseipdb", 2)
        await close(one)
        await close(two)
        await store.close()

    [source] = spent.verdicts[0].sources
    assert source.skip is SkipKind.QUOTA
    assert source.reason == "daily quota used (2/2), resets 00:00 UTC"
    assert abuse.lookups == 2
    assert left is not None and (left.used, left.left) == (2, 0)
    assert left.line().startswith("daily quota: 2 of 2 lookups used today, 0 left")


async def test_the_cache_is_invalidated_when_the_key_changes(tmp_path: Path) -> None:
    abuse, _ = _seeded()
    async with abuse:
        store = await open_store(tmp_path / "store.sqlite3")
        old_key = abuse.key
        before = registry(abuseipdb(abuse), store=store)
        await run_enrichers(before, [ip(BAD)])
        await run_enrichers(before, [ip(BAD)])
        abuse.key = "a-new-key-for-the-same-account"
        after = registry(abuseipdb(abuse, api_key=abuse.key), store=store)
        renewed = await run_enrichers(after, [ip(BAD)])
        again = await run_enrichers(after, [ip(BAD)])
        await close(before)
        await close(after)
        [cached] = await store.get_enrichment_answers(_digest(BAD))
        await store.close()

    assert abuse.lookups == 2
    assert not renewed.verdicts[0].sources[0].cached and again.verdicts[0].sources[0].cached
    assert cached.provider == "abuseipdb"
    assert old_key not in repr(cached) and abuse.key not in repr(cached)
    assert cached.answer is not None and "raw" in cached.answer["data"]  # kept in the store


def _digest(value: str) -> str:
    return observable_digest("ip", value)

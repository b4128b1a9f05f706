"""The default grouping end to end: webhooks into the real API, the real Temporal dev
server and worker, cases counted in the real store. The two storms the issue measured —
internal and documentation-range scanners with no host, and brute force from a few
attackers against one bastion — come out one case per acting entity."""

from __future__ import annotations

import asyncio
import random
import string
from collections.abc import Sequence
from typing import Any

import httpx
import pytest

from soar.store.db import Store
from soar.store.views import CaseSummary
from tests.conftest import bearer

SETTLE_SECONDS = 180.0


def letters(count: int = 10) -> str:
    """A word no id-stripping takes out of a rule family: keeps this run's keys apart
    from any other test's on the same Temporal server."""
    return "".join(random.choices(string.ascii_lowercase, k=count))


async def cases_with(store: Store, marker: str) -> list[CaseSummary]:
    """This run's cases, each once. Pages are ordered by last update and cases change
    while they are read: a case updated meanwhile can show on two pages (kept once) or
    on none (then the count falls short and `settled` reads again)."""
    found: dict[str, CaseSummary] = {}
    offset = 0
    while page := await store.list_cases(limit=500, offset=offset):
        for case in page:
            if marker in case.correlation_key:
                found.setdefault(case.id, case)
        offset += len(page)
    return list(found.values())


async def settled(store: Store, marker: str, alerts: int) -> list[CaseSummary]:
    """The cases of this run once they count every alert sent (the store is written
    after Temporal, so this waits on the projection, never on a fixed delay)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SETTLE_SECONDS
    while True:
        cases = await cases_with(store, marker)
        if sum(case.alert_count for case in cases) >= alerts:
            return cases
        assert loop.time() < deadline, f"{sum(c.alert_count for c in cases)}/{alerts} on cases"
        await asyncio.sleep(0.5)


async def send(api: httpx.AsyncClient, alerts: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(alerts), 100):
        answer = await api.post(
            "/webhooks/generic", json=list(alerts[start : start + 100]), headers=bearer()
        )
        assert answer.status_code == 202 and not answer.json()["rejected"], answer.text


@pytest.mark.solo
async def test_internal_and_documentation_scanners_without_a_host_are_one_case_each(
    api: httpx.AsyncClient, store: Store
) -> None:
    marker = letters()
    third = random.randrange(256)
    scanners = [f"10.{third}.7.{n}" for n in range(1, 17)] + [f"192.0.2.{n}" for n in range(1, 17)]
    alerts = [
        {
            "id": f"{marker}-{s}-{n}",
            "title": f"Port scan {marker} of 10.99.{n}.{s} ({n})",
            "severity": "low",
            "src_ip": scanner,
        }
        for s, scanner in enumerate(scanners)
        for n in range(10)
    ]

    await send(api, alerts)
    cases = await settled(store, marker, len(alerts))

    assert len(alerts) == 320
    assert len(cases) == 32
    assert {c.correlation_key for c in cases} == {
        f"ip:{scanner}|port scan {marker} of" for scanner in scanners
    }
    assert {c.alert_count for c in cases} == {10}


async def test_brute_force_from_four_attackers_against_one_bastion_is_four_cases(
    api: httpx.AsyncClient, store: Store
) -> None:
    marker = letters()
    attackers = [f"203.0.113.{n}" for n in random.sample(range(1, 255), 4)]
    alerts = [
        {
            "id": f"{marker}-{a}-{n}",
            "title": f"SSH brute force {marker} against bastion-01 attempt {n}",
            "severity": "medium",
            "src_ip": attacker,
            "host": "bastion-01",
            "user": "root",
        }
        for a, attacker in enumerate(attackers)
        for n in range(10)
    ]

    await send(api, alerts)
    cases = await settled(store, marker, len(alerts))

    assert len(cases) == 4
    assert {c.correlation_key for c in cases} == {
        f"ip:{a}|ssh brute force {marker} against attempt" for a in attackers
    }
    assert {c.alert_count for c in cases} == {10}
    detail = await store.get_case_detail(cases[0].id)
    assert detail is not None
    assert ("hostname", "bastion-01") in {(o.type.value, o.value) for o in detail.observables}, (
        "the bastion is context on the case, not its key"
    )

"""Alerts: idempotent recording, case links, listing and hostile content."""

from __future__ import annotations

from sqlalchemy import func, select

from soar.alerts.models import AlertStatus, Observable, ObservableType, Severity
from soar.store.db import Store
from soar.store.schema import AlertObservableRow, AlertRow

from . import factories


async def _count(store: Store, row: type[AlertRow] | type[AlertObservableRow]) -> int:
    async with store.engine.connect() as connection:
        return (await connection.execute(select(func.count()).select_from(row))).scalar_one()


async def test_upsert_alert_twice_keeps_one_row_with_the_latest_values(store: Store) -> None:
    first = factories.alert("a1")
    resolved = first.model_copy(
        update={
            "status": AlertStatus.RESOLVED,
            "observables": first.observables[:1],
            "raw": {"resolved": True},
        }
    )
    await store.upsert_alert(first)
    await store.upsert_alert(first)
    await store.upsert_alert(resolved)
    assert await _count(store, AlertRow) == 1
    assert await _count(store, AlertObservableRow) == 1
    assert await store.get_alert(first.id) == resolved


async def test_redelivery_keeps_the_case_link(store: Store) -> None:
    alert = factories.alert("a1")
    await store.upsert_alert(alert, case_id="case-1")
    await store.upsert_alert(alert)
    assert [row.id for row in await _case_alerts(store, "case-1")] == [alert.id]


async def _case_alerts(store: Store, case_id: str) -> list[AlertRow]:
    async with store.engine.connect() as connection:
        rows = await connection.execute(select(AlertRow).where(AlertRow.case_id == case_id))
        return list(rows)


async def test_attach_alert_links_a_recorded_alert_and_reports_a_missing_one(
    store: Store,
) -> None:
    alert = factories.alert("a1")
    assert await store.attach_alert(alert.id, "case-1") is False
    await store.upsert_alert(alert)
    assert await store.attach_alert(alert.id, "case-1") is True
    assert await store.attach_alert(alert.id, "case-1") is True
    assert [row.case_id for row in await _case_alerts(store, "case-1")] == ["case-1"]


async def test_get_alert_of_an_unknown_id_is_none(store: Store) -> None:
    assert await store.get_alert("nope") is None


async def test_list_alerts_filters_by_source_and_severity_newest_first(store: Store) -> None:
    alerts = [
        factories.alert("old", minutes=0),
        factories.alert("new", minutes=10),
        factories.alert("low", minutes=5, severity=Severity.LOW),
        factories.alert("other", minutes=20, source="wazuh"),
    ]
    for alert in alerts:
        await store.upsert_alert(alert)

    assert [a.dedup_key for a in await store.list_alerts()] == [
        "wazuh:other",
        "suricata:new",
        "suricata:low",
        "suricata:old",
    ]
    by_source = await store.list_alerts(source="suricata", severity=Severity.HIGH)
    assert [a.dedup_key for a in by_source] == ["suricata:new", "suricata:old"]
    page = await store.list_alerts(limit=2, offset=1)
    assert [a.dedup_key for a in page] == ["suricata:new", "suricata:low"]


async def test_hostile_alert_round_trips_unchanged(store: Store) -> None:
    hostile = "<!channel> <@U0123> *bold* `code` ```block``` &amp; <script>alert(1)</script>"
    unicode = (
        "Zürich 東京 🚨🔥 \u202eevil\u202c zero\u200bwidth e\u0301 \U0001f9e8 'quote\" \\ back"
    )
    alert = factories.alert(
        "hostile",
        title=f"{hostile} {unicode}",
        description=("ß漢🙂" * 150_000) + hostile,
        link="https://example.test/?q=<!channel>&x=%00%27",
        observables=[
            Observable(type=ObservableType.URL, value="https://e.test/" + "a" * 50_000),
            Observable(type=ObservableType.USER, value=unicode),
            Observable(type=ObservableType.DOMAIN, value=hostile),
        ],
        raw={
            "text": hostile,
            "unicode": unicode,
            "big": "x" * 300_000,
            "escapes": '\\u0000 \n\t\r "',
            "numbers": [0, -1, 2**53, 1.5e-300],
            "deep": {"a": [{"b": {"c": [hostile]}}]},
        },
    )
    await store.upsert_alert(alert)
    assert await store.get_alert(alert.id) == alert
    assert await store.list_alerts() == [alert]


async def test_a_nul_character_never_makes_the_write_fail(store: Store) -> None:
    alert = factories.alert("nul", title="before\x00after", raw={"field": "x\x00y"})
    await store.upsert_alert(alert)
    stored = await store.get_alert(alert.id)
    assert stored is not None
    assert stored.raw == {"field": "x\x00y"}
    assert stored.title in {"before\x00after", "before\ufffdafter"}

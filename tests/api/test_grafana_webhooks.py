"""Grafana alerting notifications end to end (real API app in-process, real Temporal dev
server, real worker and store): a notification that carries several alerts, and a
`resolved` notification that updates the alert it fired, the way Grafana sends them."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
from temporalio.client import Client

from soar.alerts.models import AlertStatus
from soar.api.deps import Services
from tests.api.test_webhooks import executions
from tests.conftest import SAMPLES, bearer, unique, wait_for


def notification(count: int) -> dict[str, Any]:
    """The sample notification with `count` alerts, each its own fingerprint and user."""
    payload = json.loads((SAMPLES / "grafana.json").read_text())
    template = payload["alerts"][0]
    payload["alerts"] = []
    for n in range(count):
        alert = copy.deepcopy(template)
        alert["fingerprint"] = f"{unique()}{n}"
        alert["labels"]["user"] = f"user{n}@example.com"
        alert["annotations"]["summary"] = f"Impossible travel for user{n}@example.com"
        payload["alerts"].append(alert)
    payload["title"] = f"[FIRING:{count}] Impossible travel"
    return payload


def resolve(payload: dict[str, Any], index: int) -> dict[str, Any]:
    """The notification Grafana sends when alert `index` of `payload` resolves."""
    resolved = copy.deepcopy(payload)
    resolved["alerts"] = [resolved["alerts"][index]]
    resolved["status"] = resolved["alerts"][0]["status"] = "resolved"
    resolved["alerts"][0]["endsAt"] = "2026-11-22T08:30:00Z"
    resolved["title"] = "[RESOLVED] Impossible travel"
    resolved["state"] = "ok"
    return resolved


async def test_a_notification_with_several_alerts_accepts_each(
    api: httpx.AsyncClient, temporal_client: Client, services: Services
) -> None:
    payload = notification(4)
    answer = await api.post("/webhooks/grafana", json=payload, headers=bearer())
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert (body["rejected"], body["skipped"]) == ([], 0)
    accepted = body["accepted"]
    assert len(accepted) == 4
    assert len({a["alert_id"] for a in accepted}) == 4
    assert not any(a["duplicate"] or a["queued"] for a in accepted)
    [case] = {a["workflow_id"] for a in accepted}
    assert await wait_for(lambda: executions(temporal_client, case)) == 1, "one case, started once"

    async def all_recorded() -> list[Any] | None:
        alerts = [await services.store.get_alert(a["alert_id"]) for a in accepted]
        return alerts if all(alerts) else None

    recorded = await wait_for(all_recorded)
    assert [a.title for a in recorded] == [
        f"Impossible travel for user{n}@example.com" for n in range(4)
    ]
    again = (await api.post("/webhooks/grafana", json=payload, headers=bearer())).json()
    assert [a["alert_id"] for a in again["accepted"]] == [a["alert_id"] for a in accepted]
    assert all(a["duplicate"] for a in again["accepted"])


async def test_resolved_notification_updates_the_same_alert(
    api: httpx.AsyncClient, temporal_client: Client, services: Services
) -> None:
    payload = notification(2)
    firing = (await api.post("/webhooks/grafana", json=payload, headers=bearer())).json()
    answer = await api.post("/webhooks/grafana", json=resolve(payload, 1), headers=bearer())
    assert answer.status_code == 202, answer.text
    (resolved,) = answer.json()["accepted"]
    still_firing, resolving = firing["accepted"]
    assert resolved["alert_id"] == resolving["alert_id"]
    assert resolved["workflow_id"] == resolving["workflow_id"]
    assert (resolved["duplicate"], resolved["queued"]) == (True, False)

    async def recorded_resolved() -> bool:
        alert = await services.store.get_alert(resolving["alert_id"])
        return alert is not None and alert.status is AlertStatus.RESOLVED

    await wait_for(recorded_resolved)
    assert await executions(temporal_client, resolving["workflow_id"]) == 1
    other = await wait_for(lambda: services.store.get_alert(still_firing["alert_id"]))
    assert other.status is AlertStatus.FIRING

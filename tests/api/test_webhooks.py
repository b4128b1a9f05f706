"""End to end through the real API app, the real Temporal dev server and a real worker."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from typing import Any

import httpx
from pydantic import SecretStr
from temporalio.client import Client

from soar.alerts.models import AlertStatus
from soar.api.deps import Services
from soar.settings import SourceAuth, SourceSettings
from soar.store.db import Store
from tests.conftest import API_TOKEN, SAMPLES, bearer, unique, wait_for


async def executions(client: Client, workflow_id: str) -> int:
    count = 0
    async for _ in client.list_workflows(f"WorkflowId = '{workflow_id}'"):
        count += 1
    return count


async def attachments(store: Store, alert_id: str) -> int:
    """How many times the alert is on its case's timeline, once it is on a case (0
    before)."""
    case_id = (await store.cases_of_alerts([alert_id])).get(alert_id)
    if case_id is None:
        return 0
    timeline = await store.get_timeline(case_id)
    return sum(
        1 for e in timeline if e.kind == "alert_attached" and e.data.get("alert_id") == alert_id
    )


def generic_alert(**extra: Any) -> dict[str, Any]:
    return {
        "id": f"edr-{unique()}",
        "title": "Ransomware behaviour detected",
        "severity": "critical",
        "time": "2026-11-22T10:05:00Z",
        "src_ip": "198.51.100.23",
        "host": "file-srv-02",
    } | extra


async def test_same_alert_three_times_is_on_its_case_once(
    api: httpx.AsyncClient, temporal_client: Client, services: Services
) -> None:
    body = generic_alert()
    answers = [(await api.post("/webhooks/generic", json=body, headers=bearer())) for _ in range(3)]
    assert [a.status_code for a in answers] == [202, 202, 202]
    accepted = [a.json()["accepted"][0] for a in answers]
    assert len({a["workflow_id"] for a in accepted}) == 1
    assert [a["duplicate"] for a in accepted] == [False, True, True]
    assert not any(a["queued"] for a in accepted)
    alert_id = accepted[0]["alert_id"]
    assert await wait_for(lambda: attachments(services.store, alert_id)) == 1
    assert await executions(temporal_client, accepted[0]["workflow_id"]) == 1


async def test_alert_without_id_or_time_is_recognised_when_redelivered(
    api: httpx.AsyncClient, services: Services
) -> None:
    body = {"title": f"Beacon to c2 {unique()}", "severity": "high", "src_ip": "203.0.113.7"}
    accepted = []
    for _ in range(3):
        answer = await api.post("/webhooks/generic", json=body, headers=bearer())
        assert answer.status_code == 202
        accepted.append(answer.json()["accepted"][0])
        await asyncio.sleep(1.1)
    assert len({a["alert_id"] for a in accepted}) == 1
    assert [a["duplicate"] for a in accepted] == [False, True, True]
    assert await wait_for(lambda: attachments(services.store, accepted[0]["alert_id"])) == 1


async def test_concurrent_redeliveries_are_on_the_case_once(
    api: httpx.AsyncClient, services: Services
) -> None:
    body = generic_alert()
    answers = await asyncio.gather(
        *(api.post("/webhooks/generic", json=body, headers=bearer()) for _ in range(10))
    )
    duplicates = [a.json()["accepted"][0]["duplicate"] for a in answers]
    assert duplicates.count(False) == 1
    alert_id = answers[0].json()["accepted"][0]["alert_id"]
    assert await wait_for(lambda: attachments(services.store, alert_id)) == 1


async def test_batch_of_200_with_one_broken_accepts_199(
    api: httpx.AsyncClient, temporal_client: Client
) -> None:
    batch = [generic_alert() for _ in range(200)]
    batch[137] = {"severity": "high", "unrelated": True}
    answer = await api.post("/webhooks/generic", json=batch, headers=bearer())
    assert answer.status_code == 202
    body = answer.json()
    assert len(body["accepted"]) == 199
    assert [r["index"] for r in body["rejected"]] == [137]
    assert "title" in body["rejected"][0]["error"]
    for accepted in body["accepted"]:
        handle = temporal_client.get_workflow_handle(accepted["workflow_id"])
        description = await handle.describe()
        assert description.id == accepted["workflow_id"]


async def test_recorded_alert_is_served_by_the_operator_api(api: httpx.AsyncClient) -> None:
    body = generic_alert(title="Operator sees <b>this</b>", time="2030-01-01T00:00:00Z")
    accepted = (await api.post("/webhooks/generic", json=body, headers=bearer())).json()
    alert_id = accepted["accepted"][0]["alert_id"]
    operator = {"Authorization": f"Bearer {API_TOKEN}"}

    async def listed() -> bool:
        found = await api.get("/api/alerts", headers=operator, params={"source": "generic"})
        return alert_id in {a["id"] for a in found.json()}

    await wait_for(listed)
    alert = (await api.get(f"/api/alerts/{alert_id}", headers=operator)).json()
    assert alert["title"] == "Operator sees <b>this</b>"
    assert alert["severity"]["level"] == "critical"
    assert {"type": "ip", "value": "198.51.100.23", "role": "source"} in alert["observables"]
    assert (await api.get(f"/api/alerts/{alert_id}")).status_code == 401
    assert (await api.get(f"/api/alerts/{alert_id}", headers=bearer("nope"))).status_code == 401
    missing = await api.get("/api/alerts/generic-doesnotexist", headers=operator)
    assert missing.status_code == 404
    assert "generic-doesnotexist" in missing.json()["message"]


async def test_resolved_notification_updates_the_same_alert(
    api: httpx.AsyncClient, temporal_client: Client, services: Services
) -> None:
    payload = json.loads((SAMPLES / "alertmanager.json").read_text())
    payload["alerts"] = payload["alerts"][:1]
    payload["alerts"][0]["fingerprint"] = unique()
    firing = (await api.post("/webhooks/alertmanager", json=payload, headers=bearer())).json()
    payload["status"] = payload["alerts"][0]["status"] = "resolved"
    payload["alerts"][0]["endsAt"] = "2026-11-22T09:45:00Z"
    resolved = (await api.post("/webhooks/alertmanager", json=payload, headers=bearer())).json()
    first, second = firing["accepted"][0], resolved["accepted"][0]
    assert first["alert_id"] == second["alert_id"]
    assert (first["duplicate"], second["duplicate"]) == (False, True)

    async def recorded_resolved() -> bool:
        alert = await services.store.get_alert(first["alert_id"])
        return alert is not None and alert.status is AlertStatus.RESOLVED

    await wait_for(recorded_resolved)
    assert await executions(temporal_client, first["workflow_id"]) == 1


async def test_a_resolution_is_recorded_before_the_answer_and_keeps_the_case(
    api: httpx.AsyncClient, services: Services
) -> None:
    """Read your writes for `resolved` too: the alert reads resolved the moment the 202
    is answered, stays on its case, and is not attached to it again."""
    payload = json.loads((SAMPLES / "alertmanager.json").read_text())
    payload["alerts"] = payload["alerts"][:1]
    payload["alerts"][0]["fingerprint"] = unique()
    firing = (await api.post("/webhooks/alertmanager", json=payload, headers=bearer())).json()
    alert_id = firing["accepted"][0]["alert_id"]
    assert await wait_for(lambda: attachments(services.store, alert_id)) == 1
    payload["status"] = payload["alerts"][0]["status"] = "resolved"
    payload["alerts"][0]["endsAt"] = "2026-11-22T09:45:00Z"
    resolved = await api.post("/webhooks/alertmanager", json=payload, headers=bearer())
    assert resolved.status_code == 202
    assert resolved.json()["accepted"][0]["alert_id"] == alert_id

    read = await api.get(
        f"/api/alerts/{alert_id}", headers={"Authorization": f"Bearer {API_TOKEN}"}
    )
    assert (read.json()["status"], read.json()["state"]) == ("resolved", "triaged")
    assert read.json()["case_id"] is not None
    assert await attachments(services.store, alert_id) == 1


async def test_error_statuses_say_what_is_wrong(api: httpx.AsyncClient, services: Services) -> None:
    good = json.dumps(generic_alert()).encode()
    json_type = {"Content-Type": "application/json"} | bearer()
    cases: list[tuple[str, dict[str, str], bytes, int, str]] = [
        ("/webhooks/generic", json_type, b'{"title": ', 400, "malformed JSON"),
        (
            "/webhooks/suricata",
            {"Content-Type": "application/x-ndjson"} | bearer(),
            (SAMPLES / "suricata.ndjson").read_bytes() + b"{not json}\n",
            400,
            "line 4",
        ),
        (
            "/webhooks/generic",
            {"Content-Type": "application/xml"} | bearer(),
            good,
            415,
            "content type",
        ),
        ("/webhooks/nosuchsiem", json_type, good, 404, "nosuchsiem"),
        ("/webhooks/generic", {"Content-Type": "application/json"}, good, 401, "token"),
        (
            "/webhooks/generic",
            {"Content-Type": "application/json"} | bearer("wrong"),
            good,
            401,
            "token",
        ),
        (
            "/webhooks/generic",
            json_type,
            b"x" * (services.settings.max_body_bytes + 1),
            413,
            "limit",
        ),
        ("/webhooks/generic", json_type, b'{"severity": "high"}', 422, "title"),
        ("/webhooks/generic", json_type, b"[1, 2]", 422, "no item"),
        ("/webhooks/generic", json_type, b"", 400, "empty"),
        ("/webhooks/generic", json_type, b"\xff\xfe\x00", 400, "UTF-8"),
        ("/webhooks/generic", json_type, b"[" * 5000 + b"]" * 5000, 400, "nested"),
    ]
    for path, headers, body, status, phrase in cases:
        answer = await api.post(path, content=body, headers=headers)
        assert answer.status_code == status, (path, status, answer.text)
        assert phrase in answer.json()["message"], (status, answer.json())
    assert services.spool.depth == 0


async def test_unmappable_payload_names_the_field(api: httpx.AsyncClient) -> None:
    answer = await api.post("/webhooks/generic", json={"severity": "high"}, headers=bearer())
    assert answer.status_code == 422
    assert answer.json()["field"] == "title"


async def test_each_auth_scheme(api: httpx.AsyncClient, services: Services) -> None:
    settings = services.settings
    settings.sources["grafana"] = SourceSettings(
        auth=SourceAuth(type="hmac", secret=SecretStr("grafana-secret"))
    )
    settings.sources["graylog"] = SourceSettings(
        auth=SourceAuth(type="basic", username="graylog", password=SecretStr("pw"))
    )
    settings.sources["splunk"] = SourceSettings(
        auth=SourceAuth(type="query", token=SecretStr("splunk-token"))
    )
    settings.webhook_token = None
    grafana = (SAMPLES / "grafana.json").read_bytes()
    signature = hmac.new(b"grafana-secret", grafana, hashlib.sha256).hexdigest()
    json_type = {"Content-Type": "application/json"}
    good_basic = "Basic " + base64.b64encode(b"graylog:pw").decode()
    bad_basic = "Basic " + base64.b64encode(b"graylog:nope").decode()
    splunk = (SAMPLES / "splunk.json").read_bytes()
    edr = json.dumps({"event": {"name": "EDR hit", "remote": "203.0.113.5"}}).encode()
    attempts = [
        ("/webhooks/grafana", {"X-Grafana-Alerting-Signature": signature}, grafana, 202),
        ("/webhooks/grafana", {"X-Grafana-Alerting-Signature": "0" * 64}, grafana, 401),
        ("/webhooks/grafana", {"X-Grafana-Alerting-Signature": signature}, grafana + b" ", 401),
        (
            "/webhooks/graylog",
            {"Authorization": good_basic},
            (SAMPLES / "graylog.json").read_bytes(),
            202,
        ),
        (
            "/webhooks/graylog",
            {"Authorization": bad_basic},
            (SAMPLES / "graylog.json").read_bytes(),
            401,
        ),
        ("/webhooks/splunk?token=splunk-token", {}, splunk, 202),
        ("/webhooks/splunk?token=wrong", {}, splunk, 401),
        ("/webhooks/edr", {"X-EDR-Key": "edr-key"}, edr, 202),
        ("/webhooks/edr", {"X-EDR-Key": "wrong"}, edr, 401),
        ("/webhooks/open", {}, json.dumps(generic_alert()).encode(), 202),
        ("/webhooks/wazuh", {}, (SAMPLES / "wazuh.json").read_bytes(), 401),
    ]
    for path, headers, body, status in attempts:
        answer = await api.post(path, content=body, headers=json_type | headers)
        assert answer.status_code == status, (path, headers, answer.text)
    refused = await api.post("/webhooks/wazuh", content=b"{}", headers=json_type)
    assert 'auth = "none"' in refused.json()["message"]


async def test_timestamped_hmac_rejects_stale_requests(
    api: httpx.AsyncClient, services: Services
) -> None:
    services.settings.sources["grafana"] = SourceSettings(
        auth=SourceAuth(
            type="hmac",
            secret=SecretStr("s3"),
            timestamp_header="X-Grafana-Alerting-Signature-Timestamp",
        )
    )
    body = (SAMPLES / "grafana.json").read_bytes()

    def signed(stamp: str) -> dict[str, str]:
        digest = hmac.new(b"s3", stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
        return {
            "Content-Type": "application/json",
            "X-Grafana-Alerting-Signature": digest,
            "X-Grafana-Alerting-Signature-Timestamp": stamp,
        }

    import time

    fresh = await api.post("/webhooks/grafana", content=body, headers=signed(str(int(time.time()))))
    assert fresh.status_code == 202, fresh.text
    stale = await api.post(
        "/webhooks/grafana", content=body, headers=signed(str(int(time.time()) - 3600))
    )
    assert stale.status_code == 401
    assert "window" in stale.json()["message"]


async def test_every_sample_is_accepted(api: httpx.AsyncClient) -> None:
    for sample in sorted(SAMPLES.iterdir()):
        source = sample.stem
        content_type = "application/x-ndjson" if sample.suffix == ".ndjson" else "application/json"
        answer = await api.post(
            f"/webhooks/{source}",
            content=sample.read_bytes(),
            headers={"Content-Type": content_type} | bearer(),
        )
        assert answer.status_code == 202, (source, answer.text)
        body = answer.json()
        assert body["accepted"], source
        assert body["rejected"] == []
    suricata = (
        await api.post(
            "/webhooks/suricata",
            content=(SAMPLES / "suricata.ndjson").read_bytes(),
            headers={"Content-Type": "application/x-ndjson"} | bearer(),
        )
    ).json()
    assert (len(suricata["accepted"]), suricata["skipped"]) == (2, 1)


async def test_health_and_openapi(api: httpx.AsyncClient) -> None:
    assert (await api.get("/healthz")).json() == {"status": "ok"}
    ready = await api.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"temporal": "reachable", "spool_depth": 0, "parked": 0}
    paths = (await api.get("/openapi.json")).json()["paths"]
    assert {"/webhooks/{source}", "/api/alerts/{alert_id}", "/healthz", "/readyz"} <= set(paths)
    assert set(paths["/webhooks/{source}"]["post"]["responses"]) >= {
        "202",
        "400",
        "401",
        "404",
        "413",
        "415",
        "422",
    }

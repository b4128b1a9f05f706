"""Similar cases in `GET /api/cases/{id}` and "ignore for similarity" through
`/api/similarity/ignored`, on the real app over a real store (SQLite, and PostgreSQL
when SOAR_TEST_DATABASE_URL is set), with a value ignored by the configuration."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client

from soar.alerts.models import Observable, ObservableRole, ObservableType
from soar.api.app import create_app
from soar.cases.correlation import CorrelationSettings
from soar.runtime.services import build_services
from soar.store.db import Store
from tests.conftest import API_TOKEN, make_settings
from tests.store import conftest as stores
from tests.store import factories

empty_store = stores.empty_store
store = stores.store

OPERATOR = {"Authorization": f"Bearer {API_TOKEN}"}
NAT = Observable(type=ObservableType.IP, value="198.51.100.77", role=ObservableRole.SOURCE)
PROXY = Observable(type=ObservableType.HOSTNAME, value="proxy.corp.example")
WORKSTATION = Observable(type=ObservableType.HOSTNAME, value="ws-0042")


@pytest.fixture
async def api(
    temporal_client: Client, store: Store, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(
        tmp_path, correlation=CorrelationSettings(ignore_for_similarity=["Proxy.Corp.Example"])
    )
    services = build_services(temporal_client, settings, store)
    transport = httpx.ASGITransport(app=create_app(services))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://soar.test") as client:
            yield client
    finally:
        services.spool.close()


async def seeded(store: Store) -> None:
    for case_id, observables in (
        ("case-a", [NAT, PROXY, WORKSTATION]),
        ("case-b", [NAT, PROXY]),
        ("case-c", [PROXY]),
    ):
        await store.upsert_case(factories.case(case_id, observables=observables))


async def similar_of(api: httpx.AsyncClient, case_id: str) -> list[tuple[str, int, list[str]]]:
    answer = await api.get(f"/api/cases/{case_id}", headers=OPERATOR)
    assert answer.status_code == 200, answer.text
    return [
        (s["id"], s["shared"], [f"{m['type']} {m['value']}" for m in s["matched"]])
        for s in answer.json()["similar"]
    ]


async def test_a_case_lists_open_cases_sharing_an_observable_but_not_an_ignored_one(
    api: httpx.AsyncClient, store: Store
) -> None:
    await seeded(store)

    assert await similar_of(api, "case-a") == [("case-b", 1, ["ip 198.51.100.77"])]
    assert await similar_of(api, "case-c") == [], "the proxy is ignored by configuration"


async def test_marking_a_value_takes_it_out_until_the_mark_is_taken_off(
    api: httpx.AsyncClient, store: Store
) -> None:
    await seeded(store)
    body = {"value": "198.51.100.77", "actor": "alice", "reason": "our egress NAT"}

    marked = await api.post("/api/similarity/ignored", json=body, headers=OPERATOR)

    assert marked.status_code == 201
    assert {k: marked.json()[k] for k in ("value", "added_by", "reason", "configured")} == {
        "value": "198.51.100.77",
        "added_by": "alice",
        "reason": "our egress NAT",
        "configured": False,
    }
    assert await similar_of(api, "case-a") == []
    listed = (await api.get("/api/similarity/ignored", headers=OPERATOR)).json()
    assert [(m["value"], m["configured"]) for m in listed] == [
        ("Proxy.Corp.Example", True),
        ("198.51.100.77", False),
    ]

    removed = await api.delete(
        "/api/similarity/ignored", params={"value": "198.51.100.77"}, headers=OPERATOR
    )

    assert removed.status_code == 204
    assert await similar_of(api, "case-a") == [("case-b", 1, ["ip 198.51.100.77"])]


async def test_refusals_name_what_is_wrong(api: httpx.AsyncClient) -> None:
    unmarked = await api.delete(
        "/api/similarity/ignored", params={"value": "203.0.113.1"}, headers=OPERATOR
    )
    configured = await api.delete(
        "/api/similarity/ignored", params={"value": "proxy.corp.example"}, headers=OPERATOR
    )
    blank = await api.post(
        "/api/similarity/ignored", json={"value": "   ", "actor": "alice"}, headers=OPERATOR
    )
    anonymous = await api.get("/api/similarity/ignored")

    assert (unmarked.status_code, unmarked.json()["error"]) == (404, "not_found")
    assert configured.status_code == 409
    assert "ignore_for_similarity" in configured.json()["message"]
    assert blank.status_code == 422 and "blank" in blank.json()["message"]
    assert anonymous.status_code == 401
    paths = (await api.get("/openapi.json")).json()["paths"]
    assert set(paths["/api/similarity/ignored"]) == {"get", "post", "delete"}

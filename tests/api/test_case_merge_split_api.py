"""`POST /api/cases/{id}/merge` and `/split` against the real app, the session's worker
on the Temporal dev server and the real SQLite store: alerts sent through the webhook,
cases made by correlation, the answers a client gets (202, then 200 with where it went;
404, 409, 422 in the service's words)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx

from tests.conftest import API_TOKEN, bearer

OPERATOR = bearer(API_TOKEN)
WITHIN = 60.0
T = TypeVar("T")


async def eventually(check: Callable[[], Awaitable[T | None]]) -> T:
    async with asyncio.timeout(WITHIN):
        while True:
            found = await check()
            if found:
                return found
            await asyncio.sleep(0.1)


def attacker() -> str:
    return f"45.{uuid.uuid4().int % 200 + 20}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"


async def case_with(api: httpx.AsyncClient, count: int) -> dict[str, Any]:
    """A case of `count` low alerts from one new attacker, once it holds them all."""
    address = attacker()
    body = [
        {"id": uuid.uuid4().hex, "title": "Port probe", "severity": "low", "src_ip": address}
        for _ in range(count)
    ]
    sent = await api.post("/webhooks/generic", json=body, headers=bearer())
    assert sent.status_code == 202, sent.text
    first = sent.json()["accepted"][0]["alert_id"]

    async def on_case() -> dict[str, Any] | None:
        alert = (await api.get(f"/api/alerts/{first}", headers=OPERATOR)).json()
        if not alert.get("case_id"):
            return None
        case = (await api.get(f"/api/cases/{alert['case_id']}", headers=OPERATOR)).json()
        return case if len(case["alerts"]) == count == case["alert_count"] else None

    return await eventually(on_case)


async def detail(api: httpx.AsyncClient, case_id: str) -> dict[str, Any]:
    answer = await api.get(f"/api/cases/{case_id}", headers=OPERATOR)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def test_merge_answers_202_then_200_with_where_the_case_went(api: httpx.AsyncClient) -> None:
    first, survivor, other = [await case_with(api, n) for n in (2, 1, 1)]
    url = f"/api/cases/{first['id']}/merge"
    body = {"into": survivor["id"], "actor": "alice", "reason": "the same scanner"}

    sent = await api.post(url, json=body, headers=OPERATOR)
    assert sent.status_code == 202, sent.text
    assert sent.json() | {"command_id": None} == {
        "command_id": None,
        "case_id": first["id"],
        "merged_into": survivor["id"],
        "already_merged": False,
    }

    async def moved() -> dict[str, Any] | None:
        after = await detail(api, survivor["id"])
        closed = (await detail(api, first["id"]))["state"] == "closed"
        return after if closed and after["alert_count"] == len(after["alerts"]) == 3 else None

    after = await eventually(moved)
    gone = await detail(api, first["id"])
    assert (gone["merged_into"], gone["state"], gone["alerts"]) == (survivor["id"], "closed", [])
    assert any(e["data"].get("merged_case") == first["id"] for e in after["timeline"])

    again = await api.post(url, json=body, headers=OPERATOR)
    assert (again.status_code, again.json()["already_merged"]) == (200, True)
    assert again.json()["command_id"] == sent.json()["command_id"]

    elsewhere = await api.post(url, json=body | {"into": other["id"]}, headers=OPERATOR)
    assert elsewhere.status_code == 409
    assert elsewhere.json()["message"] == f"case {first['id']} was merged into {survivor['id']}"
    unknown = await api.post("/api/cases/case-nope/merge", json=body, headers=OPERATOR)
    assert unknown.status_code == 404
    itself = await api.post(
        f"/api/cases/{other['id']}/merge", json=body | {"into": other["id"]}, headers=OPERATOR
    )
    assert itself.status_code == 409
    as_command = await api.post(
        f"/api/cases/{other['id']}/commands",
        json={"kind": "merge", "actor": "alice"},
        headers=OPERATOR,
    )
    assert as_command.status_code == 422
    refused = await api.post(url, json=body)
    assert refused.status_code == 401

    note = {"kind": "note", "actor": "alice", "text": "for the merged case"}
    noted = await api.post(f"/api/cases/{first['id']}/commands", json=note, headers=OPERATOR)
    assert (noted.status_code, noted.json()["case_id"]) == (202, survivor["id"])


async def test_split_answers_202_then_200_with_the_new_case(api: httpx.AsyncClient) -> None:
    case = await case_with(api, 3)
    leaving = [case["alerts"][0]["id"]]
    url = f"/api/cases/{case['id']}/split"
    body = {"alert_ids": leaving, "actor": "bob", "reason": "another campaign"}

    sent = await api.post(url, json=body, headers=OPERATOR)
    assert sent.status_code == 202, sent.text
    assert (sent.json()["alert_ids"], sent.json()["split_into"]) == (leaving, None)

    async def split_done() -> dict[str, Any] | None:
        answer = (await api.post(url, json=body, headers=OPERATOR)).json()
        return answer if answer.get("split_into") else None

    again = await eventually(split_done)
    assert again["command_id"] == sent.json()["command_id"]
    new = await detail(api, again["split_into"])
    assert [a["id"] for a in new["alerts"]] == leaving and new["alert_count"] == 1

    async def counted_out() -> dict[str, Any] | None:
        kept = await detail(api, case["id"])
        return kept if kept["alert_count"] == len(kept["alerts"]) == 2 else None

    await eventually(counted_out)
    unknown = await api.post(url, json=body | {"alert_ids": ["no-such-alert"]}, headers=OPERATOR)
    assert (unknown.status_code, unknown.json()["message"]) == (
        404,
        "no alert with id 'no-such-alert'",
    )
    empty = await api.post(url, json=body | {"alert_ids": []}, headers=OPERATOR)
    assert empty.status_code == 422

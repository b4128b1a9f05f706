"""The part of TheHive 5's API v1 the ticket system needs, over :class:`VendorHttp`.

Alerts are created with `POST /api/v1/alert` and found with the query API
(`POST /api/v1/query`: `listAlert`, a filter, a page). TheHive refuses a second alert
of the same (type, source, sourceRef) with a 400 whose message says it "already
exists"; :class:`AlertExists` carries that answer. Errors are `{type, message}`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from integrations.core.http import VendorHttp, default_explain
from integrations.thehive.options import API_ROOT, TheHiveOptions
from soar.integrations.errors import RequestRejected

ALREADY_EXISTS = "already exists"


def thehive_explain(response: httpx.Response) -> str:
    """TheHive's words for a failed answer: its message and error type."""
    try:
        body = response.json()
        message = str(body["message"])
    except (ValueError, KeyError, TypeError):
        return default_explain(response)
    kind = body.get("type")
    return f"{message} [{kind}]" if kind else message


class AlertExists(RequestRejected):
    """TheHive already has an alert of this type, source and sourceRef."""


def equals(field: str, value: str) -> dict[str, Any]:
    return {"_eq": {"_field": field, "_value": value}}


class TheHiveClient:
    """Alerts and their comments in one TheHive organisation."""

    def __init__(self, name: str, options: TheHiveOptions) -> None:
        self.name = name
        headers = {
            "Authorization": f"Bearer {options.api_key.get_secret_value()}",
            "Accept": "application/json",
        }
        if options.organisation:
            headers["X-Organisation"] = options.organisation
        self.http = VendorHttp(name, options, headers=headers, explain=thehive_explain)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def query(self, steps: list[dict[str, Any]], *, what: str) -> list[dict[str, Any]]:
        """Run a query of the query API; its answer is a list."""
        answer = await self.http.json("POST", f"{API_ROOT}/query", json={"query": steps}, what=what)
        if not isinstance(answer, list):
            raise self._not_thehive(what)
        return [item for item in answer if isinstance(item, dict)]

    async def alerts(
        self, *, alert_type: str, source: str, source_ref: str
    ) -> list[dict[str, Any]]:
        """The alerts of this type, source and sourceRef (at most one, TheHive says)."""
        return await self.query(
            [
                {"_name": "listAlert"},
                {
                    "_name": "filter",
                    "_and": [
                        equals("type", alert_type),
                        equals("source", source),
                        equals("sourceRef", source_ref),
                    ],
                },
                {"_name": "page", "from": 0, "to": 10},
            ],
            what=f"find the alert of {source_ref}",
        )

    async def create_alert(self, alert: dict[str, Any]) -> dict[str, Any]:
        """Create an alert; an existing one of the same keys is :class:`AlertExists`."""
        what = "create an alert"
        try:
            answer = await self.http.json(
                "POST", f"{API_ROOT}/alert", json=alert, what=what, idempotent=False
            )
        except RequestRejected as rejected:
            if rejected.status in (400, 409) and ALREADY_EXISTS in rejected.reason.lower():
                raise AlertExists(self.name, rejected.reason, status=rejected.status) from None
            raise
        if not isinstance(answer, dict) or not answer.get("_id"):
            raise self._not_thehive(what)
        return answer

    async def comments(self, alert_id: str, *, limit: int) -> list[dict[str, Any]]:
        """The comments of an alert (`limit` at most)."""
        return await self.query(
            [
                {"_name": "getAlert", "idOrName": alert_id},
                {"_name": "comments"},
                {"_name": "page", "from": 0, "to": limit},
            ],
            what=f"read the comments of {alert_id}",
        )

    async def add_comment(self, alert_id: str, message: str) -> None:
        await self.http.request(
            "POST",
            f"{API_ROOT}/alert/{quote(alert_id)}/comment",
            json={"message": message},
            what=f"comment on {alert_id}",
            idempotent=False,
        )

    async def current_user(self) -> dict[str, Any]:
        """The user the key acts as."""
        what = "read the key's user"
        answer = await self.http.json("GET", f"{API_ROOT}/user/current", what=what)
        if not isinstance(answer, dict) or "login" not in answer:
            raise self._not_thehive(what)
        return answer

    def _not_thehive(self, what: str) -> RequestRejected:
        return RequestRejected(
            self.name, f"{what}: the answer is not TheHive's; is base_url the instance's URL?"
        )

"""The part of ServiceNow's Table API the ticket system needs, over :class:`VendorHttp`.

Records are read with an encoded query (`sysparm_query=field=value^field=value`) and
answered as `{result: [...]}`; created with `POST` (201 `{result: {...}}`) and changed
with `PATCH`. Errors are `{error: {message, detail}, status: "failure"}`, the vendor's
words in every message. A rate limit is 429 with `Retry-After` (seconds).

Two of the Table API's ways matter here: a query naming a field the table does not have
is not refused — that condition is left out, and every record matches — and neither is
a created record's unknown field, which is dropped. The ticket system checks what comes
back rather than trusting the query.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

import httpx

from integrations.core.http import VendorHttp, default_explain
from integrations.core.redaction import Redactor
from integrations.servicenow.options import API_ROOT, ServiceNowOptions
from soar.integrations.errors import RequestRejected

JOURNAL = "sys_journal_field"


def servicenow_explain(response: httpx.Response) -> str:
    """ServiceNow's words for a failed answer: the error's message and detail."""
    try:
        error = response.json()["error"]
        message = str(error.get("message") or "")
        detail = str(error.get("detail") or "")
    except (ValueError, KeyError, TypeError, AttributeError):
        return default_explain(response)
    return f"{message}: {detail}" if message and detail else message or detail or "no detail"


def encoded_query(**conditions: str) -> str:
    """`field=value` conditions joined by `^`. A value holding `^` would be read as the
    start of another condition, so it is refused."""
    for value in conditions.values():
        if "^" in value or "\n" in value:
            raise ValueError(f"{value!r} cannot be a ServiceNow query value")
    return "^".join(f"{field}={value}" for field, value in conditions.items())


class ServiceNowClient:
    """Records of one table read, created and changed in one instance."""

    def __init__(self, name: str, options: ServiceNowOptions) -> None:
        self.name = name
        self.options = options
        pair = f"{options.username}:{options.password.get_secret_value()}"
        credentials = base64.b64encode(pair.encode()).decode()
        self.http = VendorHttp(
            name,
            options,
            headers={"Authorization": f"Basic {credentials}", "Accept": "application/json"},
            explain=servicenow_explain,
            redactor=Redactor([*options.secrets(), credentials]),
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def records(
        self, table: str, query: str, *, fields: list[str], limit: int, what: str
    ) -> list[dict[str, Any]]:
        """The records of `table` the encoded `query` matches."""
        answer = await self.http.json(
            "GET",
            f"{API_ROOT}/table/{table}",
            params={
                "sysparm_query": query,
                "sysparm_fields": ",".join(fields),
                "sysparm_limit": str(limit),
                "sysparm_exclude_reference_link": "true",
            },
            what=what,
        )
        result = answer.get("result") if isinstance(answer, dict) else None
        if not isinstance(result, list):
            raise self._not_servicenow(what)
        return [record for record in result if isinstance(record, dict)]

    async def create(
        self, table: str, record: dict[str, str], *, fields: list[str]
    ) -> dict[str, Any]:
        """Create a record; the answer holds `fields` of it as stored."""
        what = f"create a {table} record"
        answer = await self.http.json(
            "POST",
            f"{API_ROOT}/table/{table}",
            params={"sysparm_fields": ",".join(fields)},
            json=record,
            what=what,
            idempotent=False,
        )
        result = answer.get("result") if isinstance(answer, dict) else None
        if not isinstance(result, dict) or not result.get("sys_id"):
            raise self._not_servicenow(what)
        return result

    async def update(self, table: str, sys_id: str, changes: dict[str, str], *, what: str) -> None:
        """Change fields of one record (sent once: a journal field appends an entry)."""
        await self.http.request(
            "PATCH",
            f"{API_ROOT}/table/{table}/{quote(sys_id)}",
            params={"sysparm_fields": "sys_id"},
            json=changes,
            what=what,
            idempotent=False,
        )

    async def journal(self, sys_id: str, field: str, *, limit: int) -> list[str]:
        """The newest entries of a record's journal field (work notes, comments)."""
        query = encoded_query(element_id=sys_id, element=field) + "^ORDERBYDESCsys_created_on"
        entries = await self.records(
            JOURNAL, query, fields=["value"], limit=limit, what=f"read the {field} of {sys_id}"
        )
        return [str(entry.get("value", "")) for entry in entries]

    def _not_servicenow(self, what: str) -> RequestRejected:
        return RequestRejected(
            self.name,
            f"{what}: the answer is not ServiceNow's; is base_url the instance's URL?",
        )

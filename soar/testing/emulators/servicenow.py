"""A ServiceNow instance on loopback: the Table API calls the ServiceNow ticket system
makes, played the way ServiceNow documents them — including its leniencies.

- Basic `username:password`; anything else is 401 `User Not Authenticated`.
- `GET /api/now/table/{table}?sysparm_query=&sysparm_fields=&sysparm_limit=` →
  `{result: [...]}`. The encoded query is `field=value` conditions joined by `^`, with
  `ORDERBY<field>` / `ORDERBYDESC<field>`; a condition on a field the table does not
  have is ignored (ServiceNow's default), so it matches every record.
- `POST /api/now/table/{table}` → 201 `{result}`; fields the table lacks are dropped;
  priority follows impact and urgency as the default matrix says; `work_notes` and
  `comments` go to the journal (`sys_journal_field`).
- `PATCH /api/now/table/{table}/{sys_id}`; an unknown record is 404 `No Record found`.
- `GET /api/now/table/sys_journal_field` reads the journal (403 when the emulator is
  told the user may not, `journal_readable=False`).
- Errors are `{error: {message, detail}, status: "failure"}`; a rate limit is 429 with
  `Retry-After` (seconds) and `X-RateLimit-Reset` (epoch seconds).

Tests read the records (:meth:`ServiceNowEmulator.record`), the journal
(:meth:`comments_on`) and count the records created (:attr:`tickets_created`).
"""

from __future__ import annotations

import base64
import math
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from soar.testing.emulators.base import VendorEmulator

API = "/api/now/table"
JOURNAL = "sys_journal_field"
JOURNAL_FIELDS = frozenset({"work_notes", "comments"})
TASK_FIELDS = frozenset(
    {
        "sys_id",
        "number",
        "short_description",
        "description",
        "impact",
        "urgency",
        "priority",
        "state",
        "correlation_id",
        "correlation_display",
        "assignment_group",
        "caller_id",
        "category",
        "sys_created_on",
        *JOURNAL_FIELDS,
    }
)
PRIORITY = {
    ("1", "1"): "1",
    ("1", "2"): "2",
    ("2", "1"): "2",
    ("1", "3"): "3",
    ("2", "2"): "3",
    ("3", "1"): "3",
    ("2", "3"): "4",
    ("3", "2"): "4",
    ("3", "3"): "5",
}


def now_error(status: int, message: str, detail: str | None = None) -> web.Response:
    return web.json_response(
        {"error": {"message": message, "detail": detail}, "status": "failure"}, status=status
    )


@dataclass
class JournalEntry:
    element_id: str
    element: str
    value: str
    sys_created_on: str
    order: int


class ServiceNowEmulator(VendorEmulator):
    """The emulated instance; see the module docstring."""

    create_call = ("POST", f"{API}/")

    def __init__(
        self, *, username: str = "soar.integration", journal_readable: bool = True
    ) -> None:
        super().__init__()
        self.username = username
        self.password = secrets.token_urlsafe(18)
        self.secrets: list[str] = [self.password]
        self.journal_readable = journal_readable
        self.tables: dict[str, frozenset[str]] = {
            "incident": TASK_FIELDS,
            "u_ticket": TASK_FIELDS - {"correlation_id", "correlation_display"},
        }
        self.records: dict[str, list[dict[str, str]]] = {table: [] for table in self.tables}
        self.journal: list[JournalEntry] = []
        self.last_reset: int | None = None

    # Reading state

    @property
    def tickets_created(self) -> int:
        return sum(len(records) for records in self.records.values())

    @property
    def requests(self) -> int:
        return len(self.calls)

    def record(self, number: str) -> dict[str, str] | None:
        return next(
            (r for records in self.records.values() for r in records if r["number"] == number),
            None,
        )

    def comments_on(self, key: str, field: str = "work_notes") -> list[str]:
        record = self.record(key)
        if record is None:
            return []
        entries = [
            e for e in self.journal if e.element_id == record["sys_id"] and e.element == field
        ]
        return [e.value for e in sorted(entries, key=lambda e: e.order)]

    # The vendor's ways

    def authorized(self, request: web.Request) -> bool:
        expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return request.headers.get("Authorization") == f"Basic {expected}"

    def unauthorized(self) -> web.Response:
        return now_error(401, "User Not Authenticated", "Required to provide Auth information")

    def wait_headers(self, seconds: float) -> dict[str, str]:
        self.last_reset = math.ceil(time.time() + seconds)
        return {
            "Retry-After": str(int(seconds)),
            "X-RateLimit-Limit": "100",
            "X-RateLimit-Reset": str(self.last_reset),
        }

    def rate_limited_body(self) -> Any:
        return {
            "error": {
                "message": "Too Many Requests",
                "detail": "The rate limit for the user has been exceeded",
            },
            "status": "failure",
        }

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get(f"{API}/{{table}}", self._list),
            web.post(f"{API}/{{table}}", self._create),
            web.patch(f"{API}/{{table}}/{{sys_id}}", self._update),
        ]

    async def _list(self, request: web.Request) -> web.Response:
        table = request.match_info["table"]
        if table == JOURNAL:
            if not self.journal_readable:
                return now_error(403, "User Not Authorized", "ACL restricts the record retrieval")
            rows = [
                {
                    "element_id": e.element_id,
                    "element": e.element,
                    "value": e.value,
                    "sys_created_on": e.sys_created_on,
                    "order": f"{e.order:09d}",
                }
                for e in self.journal
            ]
            known = frozenset({"element_id", "element", "value", "sys_created_on"})
        elif table in self.tables:
            rows, known = list(self.records[table]), self.tables[table]
        else:
            return now_error(400, f"Invalid table {table}")
        matched = select(rows, request.query.get("sysparm_query", ""), known)
        limit = int(request.query.get("sysparm_limit", "10000"))
        fields = [f for f in request.query.get("sysparm_fields", "").split(",") if f]
        result = [shaped(row, fields) for row in matched[:limit]]
        return web.json_response({"result": result}, headers={"X-Total-Count": str(len(matched))})

    async def _create(self, request: web.Request) -> web.Response:
        table = request.match_info["table"]
        if table not in self.tables:
            return now_error(400, f"Invalid table {table}")
        try:
            body = await request.json()
        except ValueError:
            return now_error(
                400, "Exception while reading request", "The payload is not valid JSON."
            )
        if not isinstance(body, dict):
            return now_error(
                400, "Exception while reading request", "The payload is not an object."
            )
        fields = self.tables[table]
        prefix = "INC" if table == "incident" else "REC"
        record = {
            "sys_id": secrets.token_hex(16),
            "number": f"{prefix}{10001 + len(self.records[table]):07d}",
            "state": "1",
            "sys_created_on": _stamp(),
        }
        for name, value in body.items():
            if name in fields and name not in JOURNAL_FIELDS and name not in record:
                record[name] = str(value)
        if "impact" in record or "urgency" in record:
            record["priority"] = PRIORITY[(record.get("impact", "3"), record.get("urgency", "3"))]
        self.records[table].append(record)
        self._journal(record["sys_id"], body)
        wanted = [f for f in request.query.get("sysparm_fields", "").split(",") if f]
        return web.json_response({"result": shaped(record, wanted)}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        table, sys_id = request.match_info["table"], request.match_info["sys_id"]
        record = next((r for r in self.records.get(table, []) if r["sys_id"] == sys_id), None)
        if record is None:
            return now_error(
                404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval"
            )
        body = await request.json()
        for name, value in body.items():
            if name in self.tables[table] and name not in JOURNAL_FIELDS:
                record[name] = str(value)
        self._journal(sys_id, body)
        wanted = [f for f in request.query.get("sysparm_fields", "").split(",") if f]
        return web.json_response({"result": shaped(record, wanted)})

    def _journal(self, sys_id: str, body: dict[str, Any]) -> None:
        for name in JOURNAL_FIELDS & body.keys():
            if str(body[name]).strip():
                self.journal.append(
                    JournalEntry(sys_id, name, str(body[name]), _stamp(), len(self.journal))
                )


def select(rows: list[dict[str, str]], query: str, known: frozenset[str]) -> list[dict[str, str]]:
    """The rows an encoded query matches, in its order (conditions on unknown fields are
    left out, as ServiceNow does)."""
    matched = list(rows)
    order: tuple[str, bool] | None = None
    for part in (p for p in query.split("^") if p):
        if part.startswith("ORDERBYDESC"):
            order = (part.removeprefix("ORDERBYDESC"), True)
        elif part.startswith("ORDERBY"):
            order = (part.removeprefix("ORDERBY"), False)
        elif "=" in part:
            name, value = part.split("=", 1)
            if name in known:
                matched = [row for row in matched if row.get(name, "") == value]
    if order is not None:
        name, descending = order
        matched.sort(key=lambda row: (row.get(name, ""), row.get("order", "")), reverse=descending)
    return matched


def shaped(row: dict[str, str], fields: list[str]) -> dict[str, str]:
    """The row with only `fields` (all when none are named), as the Table API answers."""
    if not fields:
        return {k: v for k, v in row.items() if k != "order"}
    return {name: row.get(name, "") for name in fields}


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

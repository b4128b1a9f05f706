"""ServiceNow incidents as the tickets of cases.

A case's incident has the case id as its `correlation_id`: finding the case's incident
is a Table API query on it, which every retry of opening asks first. Records the query
answers are checked to hold that correlation id (the Table API ignores a condition on a
field the table lacks), and a created record that did not keep it is refused, since
such a table could never find its incident again.

The short description is the case's title on one line (160 characters); the description
is the case's description with the severity, marking, observables and the case's link,
cut to the instance's limit. Urgency and impact follow the severity (critical 1/1,
high 1/2, medium 2/2, low 3/2, informational 3/3: priorities 1 to 5 in the default
matrix). Comments go to the work notes (or the customer-visible comments); one the
journal already holds is not added again.
"""

from __future__ import annotations

from urllib.parse import quote

from integrations.servicenow.client import ServiceNowClient, encoded_query
from integrations.servicenow.options import ServiceNowOptions
from soar.alerts.models import Severity
from soar.integrations.errors import AccessDenied, RequestRejected, TargetNotFound
from soar.integrations.text import clipped, one_line, plain
from soar.tickets.models import TicketDraft, TicketRef

VENDOR = "ServiceNow"
MAX_SHORT_DESCRIPTION = 160
MAX_COMMENT = 4000
JOURNAL_READ = 100
FIELDS = ["sys_id", "number", "correlation_id"]

IMPACT_URGENCY = {
    Severity.CRITICAL: ("1", "1"),
    Severity.HIGH: ("1", "2"),
    Severity.MEDIUM: ("2", "2"),
    Severity.LOW: ("3", "2"),
    Severity.INFORMATIONAL: ("3", "3"),
}
"""A severity as ServiceNow's (impact, urgency): 1 high, 2 medium, 3 low."""


def describe(draft: TicketDraft, limit: int) -> str:
    """The draft as the incident's plain-text description."""
    lines = [
        plain(draft.description, limit),
        "",
        f"Severity: {draft.severity.value} · Marking: {draft.tlp.label}",
    ]
    if draft.observables:
        lines += ["", "Observables:"]
        lines += [
            "- " + one_line(f"{o.type.value} {o.value} ({o.role.value})", 500)
            for o in draft.observables
        ]
    if draft.case_url:
        lines += ["", f"Case: {draft.case_url}"]
    lines += ["", f"Opened by SOAR for case {draft.case_id}."]
    return clipped("\n".join(lines).strip(), limit)


class ServiceNowTicketSystem:
    """Cases' incidents in one ServiceNow instance."""

    vendor = VENDOR

    def __init__(self, name: str, options: ServiceNowOptions) -> None:
        self.name = name
        self.options = options
        self.client = ServiceNowClient(name, options)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def find(self, case_id: str) -> TicketRef | None:
        table = self.options.table
        records = await self.client.records(
            table,
            self._query(correlation_id=case_id) + "^ORDERBYsys_created_on",
            fields=FIELDS,
            limit=10,
            what=f"find the {table} record of {case_id}",
        )
        for record in records:
            if record.get("correlation_id") == case_id and record.get("number"):
                return self._ref(record, created=False)
        return None

    async def open(self, draft: TicketDraft) -> TicketRef:
        impact, urgency = IMPACT_URGENCY[draft.severity]
        record = {
            "short_description": one_line(draft.title, MAX_SHORT_DESCRIPTION),
            "description": describe(draft, self.options.max_description),
            "impact": impact,
            "urgency": urgency,
            "correlation_id": draft.case_id,
            "correlation_display": self.options.correlation_display,
        }
        for field in ("assignment_group", "caller_id", "category"):
            value = getattr(self.options, field)
            if value:
                record[field] = value
        created = await self.client.create(self.options.table, record, fields=FIELDS)
        if created.get("correlation_id") != draft.case_id:
            raise RequestRejected(
                self.name,
                f"{self.options.table} record {created.get('number')} was created without "
                "the case id in correlation_id (the table lacks the field?), so a retry "
                "could not find it; use a table that has correlation_id (incident)",
            )
        return self._ref(created, created=True)

    async def comment(self, key: str, text: str) -> bool:
        table, field = self.options.table, self.options.comment_field
        records = await self.client.records(
            table, self._query(number=key), fields=FIELDS, limit=1, what=f"find {key}"
        )
        sys_id = next((str(r["sys_id"]) for r in records if r.get("number") == key), None)
        if sys_id is None:
            raise TargetNotFound(self.name, f"{table} record {key} does not exist", status=404)
        wanted = plain(text, MAX_COMMENT)
        try:
            shown = await self.client.journal(sys_id, field, limit=JOURNAL_READ)
        except AccessDenied:
            shown = []  # the user may not read the journal: add it, maybe again
        if wanted in shown:
            return False
        await self.client.update(table, sys_id, {field: wanted}, what=f"add {field} to {key}")
        return True

    def _query(self, **conditions: str) -> str:
        try:
            return encoded_query(**conditions)
        except ValueError as error:
            raise RequestRejected(self.name, str(error)) from None

    def _ref(self, record: dict[str, object], *, created: bool) -> TicketRef:
        root = self.options.web_url or self.options.base_url
        target = quote(f"{self.options.table}.do?sys_id={record['sys_id']}", safe="")
        return TicketRef(
            system=self.name,
            vendor=VENDOR,
            key=str(record["number"]),
            url=f"{root}/nav_to.do?uri={target}",
            created=created,
        )


async def check(name: str, options: ServiceNowOptions) -> list[str]:
    """Have the credentials accepted and the table read, changing nothing."""
    client = ServiceNowClient(name, options)
    try:
        await client.records(
            options.table, "", fields=["sys_id"], limit=1, what=f"read {options.table}"
        )
    finally:
        await client.aclose()
    return [
        f"reached {options.base_url}",
        f"credentials of {options.username} accepted: {options.table} can be read; cases' "
        f"records get their case id as correlation_id and comments in {options.comment_field}",
    ]

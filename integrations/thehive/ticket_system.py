"""TheHive 5 alerts as the tickets of cases.

A case's alert has the case id as its `sourceRef`, with the configured type and source;
TheHive keeps that triple unique. Opening asks for the alert first, and when TheHive
still answers that it "already exists" (the first attempt's create landed after the
search), the existing alert is found and answered with `created=False`.

TheHive renders descriptions and comments as Markdown, so the case's text is escaped to
show literally (:mod:`integrations.thehive.markdown`). Severity is TheHive's 1 (low) to
4 (critical); the marking is the alert's and its observables' TLP; the observables go
with the alert, one per type and value.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from integrations.thehive.client import AlertExists, TheHiveClient
from integrations.thehive.markdown import literal
from integrations.thehive.options import TheHiveOptions
from soar.alerts.models import ObservableType, Severity
from soar.integrations.errors import RequestRejected
from soar.integrations.text import one_line, plain
from soar.tickets.models import TicketDraft, TicketRef

VENDOR = "TheHive"
MAX_TITLE = 512
MAX_TEXT = 30_000
COMMENTS_READ = 100

SEVERITIES = {
    Severity.CRITICAL: 4,
    Severity.HIGH: 3,
    Severity.MEDIUM: 2,
    Severity.LOW: 1,
    Severity.INFORMATIONAL: 1,
}
DATA_TYPES = {
    ObservableType.IP: "ip",
    ObservableType.DOMAIN: "domain",
    ObservableType.URL: "url",
    ObservableType.HASH: "hash",
    ObservableType.HOSTNAME: "hostname",
    ObservableType.EMAIL: "mail",
    ObservableType.USER: "other",
}
"""An observable's type as TheHive's data type (a user name has none of its own)."""


def safe_link(url: str) -> str | None:
    """`url` as a Markdown link destination, or None when it is not http(s)."""
    if not url.startswith(("https://", "http://")):
        return None
    return quote(url, safe=":/?#[]@!$&'*+,;=%-._~")


def describe(draft: TicketDraft) -> str:
    """The draft as the alert's Markdown description, every piece of it literal."""
    parts = [literal(plain(draft.description, MAX_TEXT))] if draft.description.strip() else []
    parts.append(
        f"**Severity:** {literal(draft.severity.value)} · **Marking:** {literal(draft.tlp.label)}"
    )
    if draft.observables:
        parts.append(
            "\n".join(
                "- " + literal(one_line(f"{o.type.value} {o.value} ({o.role.value})", 500))
                for o in draft.observables
            )
        )
    link = safe_link(draft.case_url) if draft.case_url else None
    if link:
        parts.append(f"[Open the case]({link})")
    parts.append(literal(f"Opened by SOAR for case {draft.case_id}."))
    return "\n\n".join(parts)


class TheHiveTicketSystem:
    """Cases' alerts in one TheHive organisation."""

    vendor = VENDOR

    def __init__(self, name: str, options: TheHiveOptions) -> None:
        self.name = name
        self.options = options
        self.client = TheHiveClient(name, options)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def find(self, case_id: str) -> TicketRef | None:
        found = await self.client.alerts(
            alert_type=self.options.alert_type, source=self.options.source, source_ref=case_id
        )
        for alert in found:
            if alert.get("sourceRef") == case_id and alert.get("_id"):
                return self._ref(str(alert["_id"]), created=False)
        return None

    async def open(self, draft: TicketDraft) -> TicketRef:
        try:
            created = await self.client.create_alert(self._alert(draft))
        except AlertExists as exists:
            found = await self.find(draft.case_id)
            if found is None:
                raise RequestRejected(
                    self.name,
                    f"TheHive says the alert of {draft.case_id} exists ({exists.reason}) "
                    "but does not find it",
                    status=exists.status,
                ) from None
            return found
        return self._ref(str(created["_id"]), created=True)

    async def comment(self, key: str, text: str) -> bool:
        message = literal(plain(text, MAX_TEXT))
        for existing in await self.client.comments(key, limit=COMMENTS_READ):
            if existing.get("message") == message:
                return False
        await self.client.add_comment(key, message)
        return True

    def _alert(self, draft: TicketDraft) -> dict[str, Any]:
        tlp = self.options.tlp[draft.tlp]
        observables: dict[tuple[str, str], dict[str, Any]] = {}
        for observable in draft.observables:
            data_type = DATA_TYPES[observable.type]
            observables.setdefault(
                (data_type, observable.value),
                {
                    "dataType": data_type,
                    "data": observable.value,
                    "tlp": tlp,
                    "tags": [f"role:{observable.role.value}", f"type:{observable.type.value}"],
                },
            )
        return {
            "type": self.options.alert_type,
            "source": self.options.source,
            "sourceRef": draft.case_id,
            "title": one_line(draft.title, MAX_TITLE),
            "description": describe(draft),
            "severity": SEVERITIES[draft.severity],
            "tlp": tlp,
            "pap": self.options.pap,
            "tags": list(self.options.tags),
            "observables": list(observables.values()),
        }

    def _ref(self, alert_id: str, *, created: bool) -> TicketRef:
        root = self.options.web_url or self.options.base_url
        return TicketRef(
            system=self.name,
            vendor=VENDOR,
            key=alert_id,
            url=f"{root}/alerts/{quote(alert_id)}/details",
            created=created,
        )


async def check(name: str, options: TheHiveOptions) -> list[str]:
    """Have the key accepted, changing nothing."""
    client = TheHiveClient(name, options)
    try:
        user = await client.current_user()
    finally:
        await client.aclose()
    organisation = user.get("organisation") or options.organisation or "its organisation"
    return [
        f"reached {options.base_url}",
        f"key accepted: it acts as {user.get('login')} ({user.get('name')}) in {organisation}",
    ]

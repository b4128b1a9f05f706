"""Paging the on-call through a PagerDuty service.

A case is one PagerDuty alert: the dedup key is the case id, so a second trigger adds
to the open alert (PagerDuty notifies nobody again), an acknowledge stops its
notifications and a resolve closes it. A trigger carries the summary on one line (1,024
characters at most), the case's severity in PagerDuty's four words, the details and the
links; acknowledge and resolve carry only the key.
"""

from __future__ import annotations

import secrets
from typing import Any

from integrations.pagerduty.client import PagerDutyClient
from integrations.pagerduty.options import PagerDutyOptions
from soar.alerts.models import Severity
from soar.integrations.text import one_line
from soar.paging.models import PageAction, PageEvent, PageReceipt

VENDOR = "PagerDuty"
MAX_SUMMARY = 1024
"""The longest summary PagerDuty takes."""

SEVERITIES = {
    Severity.CRITICAL: "critical",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "info",
    Severity.INFORMATIONAL: "info",
}
"""A case's severity in PagerDuty's words (critical, error, warning, info)."""


class PagerDutyPager:
    """Trigger, acknowledge and resolve a case's alert on one PagerDuty service."""

    vendor = VENDOR

    def __init__(self, name: str, options: PagerDutyOptions) -> None:
        self.name = name
        self.options = options
        self.client = PagerDutyClient(name, options)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def send(self, event: PageEvent) -> PageReceipt:
        answer = await self.client.enqueue(
            self._body(event), what=f"{event.action.value} the alert of {event.dedup_key}"
        )
        return PageReceipt(
            pager=self.name,
            vendor=VENDOR,
            action=event.action,
            dedup_key=str(answer.get("dedup_key") or event.dedup_key),
            message=str(answer.get("message") or ""),
        )

    def _body(self, event: PageEvent) -> dict[str, Any]:
        body: dict[str, Any] = {"event_action": event.action.value, "dedup_key": event.dedup_key}
        if event.action is not PageAction.TRIGGER:
            return body
        body["payload"] = {
            "summary": one_line(event.summary, MAX_SUMMARY),
            "source": self.options.source,
            "severity": SEVERITIES[event.severity],
            "custom_details": {key: one_line(value, 2000) for key, value in event.details.items()},
        }
        body["links"] = [
            {"href": link.href, "text": one_line(link.text or link.href, 300)}
            for link in event.links
        ]
        body["client"] = self.options.client
        if self.options.client_url:
            body["client_url"] = self.options.client_url
        return body


async def check(name: str, options: PagerDutyOptions) -> list[str]:
    """Have the routing key accepted without paging anyone: an acknowledge for a dedup
    key no alert has, which PagerDuty takes (202) and drops — or refuses (400) when it
    does not know the key. The Events API has no read-only call."""
    pager = PagerDutyPager(name, options)
    probe = f"soar-check-{secrets.token_hex(8)}"
    try:
        receipt = await pager.send(PageEvent(action=PageAction.ACKNOWLEDGE, dedup_key=probe))
    finally:
        await pager.aclose()
    return [
        f"reached {options.base_url}",
        f"routing key accepted: PagerDuty took an acknowledge for {probe}, a dedup key no "
        f"alert has, and changed nothing ({receipt.message or 'no message'})",
    ]

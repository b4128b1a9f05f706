"""PagerDuty's Events API v2 over :class:`VendorHttp`.

`POST /v2/enqueue` answers 202 `{status, message, dedup_key}`. Its errors are 400
`{status: "invalid event", message, errors: [...]}` — a routing key PagerDuty does not
know among them, which is the Events API's way of refusing a credential (it has no 401)
— and 429, with no wait signal, when events arrive faster than the service takes them.
"""

from __future__ import annotations

from typing import Any

import httpx

from integrations.core.http import VendorHttp, default_explain
from integrations.core.waits import fixed_wait
from integrations.pagerduty.options import PagerDutyOptions
from soar.integrations.errors import CredentialsRejected, IntegrationError

ENQUEUE = "/v2/enqueue"


def pagerduty_explain(response: httpx.Response) -> str:
    """PagerDuty's words: the message and each error."""
    try:
        body = response.json()
        message = str(body["message"])
    except (ValueError, KeyError, TypeError):
        return default_explain(response)
    errors = [str(e) for e in body.get("errors") or [] if e]
    return f"{message}: {'; '.join(errors)}" if errors else message


def refuses_the_key(response: httpx.Response) -> bool:
    """Whether a 400 says the routing key is not one PagerDuty knows."""
    if response.status_code != 400:
        return False
    try:
        errors = response.json().get("errors") or []
    except (ValueError, AttributeError):
        return False
    return any("routing key" in str(error).lower() for error in errors)


class PagerDutyHttp(VendorHttp):
    """:class:`VendorHttp` that reads an unknown routing key as refused credentials."""

    def judge(
        self, response: httpx.Response, label: str, *, missing_ok: bool
    ) -> tuple[IntegrationError, float | None] | None:
        if refuses_the_key(response):
            words = self.redact(pagerduty_explain(response))
            return CredentialsRejected(
                self.name, f"{label}: PagerDuty refused the routing key (400): {words}", status=400
            ), None
        return super().judge(response, label, missing_ok=missing_ok)


class PagerDutyClient:
    """Events sent to one service's Events API v2 integration."""

    def __init__(self, name: str, options: PagerDutyOptions) -> None:
        self.name = name
        self.options = options
        self.http = PagerDutyHttp(
            name,
            options,
            headers={"Accept": "application/json"},
            wait_signal=fixed_wait(options.rate_limit_wait_seconds),
            explain=pagerduty_explain,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def enqueue(self, event: dict[str, Any], *, what: str) -> dict[str, Any]:
        """Send one event (the routing key added here) and return PagerDuty's answer."""
        body = {"routing_key": self.options.routing_key.get_secret_value(), **event}
        answer = await self.http.json("POST", ENQUEUE, json=body, what=what)
        return answer if isinstance(answer, dict) else {}

"""Cloudflare's IP Access rules of one zone, over :class:`VendorHttp`.

- find: `GET /zones/{zone}/firewall/access_rules/rules?configuration.target=…&
  configuration.value=…`;
- create: `POST …/rules` `{"mode": "block", "configuration": {"target", "value"},
  "notes"}` — a second rule for the same configuration is refused with error 10009,
  which means a rule is there already;
- delete: `DELETE …/rules/{id}`.

Every answer is `{success, errors: [{code, message}], messages, result}`; the codes
say more than the HTTP status (10000 "Authentication error" comes in a 401 or a 403,
6003/6111 a malformed Authorization header, 7003 a zone id nothing routes to), and a
`success: false` inside a 200 is an error too. A 429 carries `Retry-After` in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from integrations.cloudflare.options import CloudflareOptions
from integrations.core.http import VendorHttp, default_explain
from soar.integrations.errors import (
    CredentialsRejected,
    IntegrationError,
    RequestRejected,
    TargetNotFound,
    TransientError,
)

DUPLICATE = 10009
AUTHENTICATION = frozenset({10000, 6003, 6111})
"""Authentication error, invalid request headers, invalid Authorization header."""
NO_ROUTE = 7003
""""Could not route to /zones/…": the zone id is wrong."""
PER_PAGE = 50


@dataclass(frozen=True)
class Rule:
    """One IP Access rule, as Cloudflare lists it."""

    id: str
    mode: str
    target: str
    value: str
    notes: str


def envelope(response: httpx.Response) -> dict[str, Any] | None:
    """Cloudflare's envelope of an answer, or None when the body is not one."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) and "success" in body else None


def error_codes(body: dict[str, Any] | None) -> set[int]:
    """The codes of an envelope's errors."""
    if body is None:
        return set()
    return {
        error["code"]
        for error in body.get("errors") or []
        if isinstance(error, dict) and isinstance(error.get("code"), int)
    }


def cloudflare_explain(response: httpx.Response) -> str:
    """Cloudflare's words for a failed answer: each error's code and message."""
    body = envelope(response)
    errors = [e for e in (body or {}).get("errors") or [] if isinstance(e, dict)]
    if not errors:
        return default_explain(response)
    return "; ".join(f"Cloudflare error {e.get('code')}: {e.get('message')}" for e in errors)


class CloudflareHttp(VendorHttp):
    """:class:`VendorHttp` reading Cloudflare's envelope: a duplicate is an answer, an
    authentication error is refused credentials whatever its status, a wrong zone is
    not found, and `success: false` inside a 200 is an error."""

    def judge(
        self, response: httpx.Response, label: str, *, missing_ok: bool
    ) -> tuple[IntegrationError, float | None] | None:
        body = envelope(response)
        status = response.status_code
        if body is None or body.get("success") is True or status == 429 or status >= 500:
            return super().judge(response, label, missing_ok=missing_ok)
        codes = error_codes(body)
        if DUPLICATE in codes:
            return None
        said = self.redact(cloudflare_explain(response))
        if codes & AUTHENTICATION:
            return CredentialsRejected(
                self.name,
                f"{label}: the API token was refused ({said}); it may be invalid, "
                "expired or without Firewall Services: Edit on the zone",
                status=status,
            ), None
        if NO_ROUTE in codes:
            return TargetNotFound(
                self.name, f"{label}: Cloudflare has no such zone ({said})", status=status
            ), None
        if status < 400:
            return RequestRejected(self.name, f"{label}: refused ({said})", status=status), None
        return super().judge(response, label, missing_ok=missing_ok)


def _rule(row: dict[str, Any]) -> Rule:
    configuration = row.get("configuration") or {}
    return Rule(
        id=str(row["id"]),
        mode=str(row.get("mode", "")),
        target=str(configuration.get("target", "")),
        value=str(configuration.get("value", "")),
        notes=str(row.get("notes") or ""),
    )


class CloudflareClient:
    """The IP Access rules of one zone."""

    def __init__(self, name: str, options: CloudflareOptions) -> None:
        self.name = name
        self.zone_id = options.zone_id
        self.rules_path = f"/zones/{options.zone_id}/firewall/access_rules/rules"
        self.http = CloudflareHttp(
            name,
            options,
            headers={"Authorization": f"Bearer {options.api_token.get_secret_value()}"},
            explain=cloudflare_explain,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def find(self, target: str, value: str) -> list[Rule]:
        """The zone's rules for this configuration, whatever their mode (Cloudflare
        keeps one rule per configuration, so one page holds them)."""
        body = await self.http.json(
            "GET",
            self.rules_path,
            params={
                "configuration.target": target,
                "configuration.value": value,
                "per_page": PER_PAGE,
            },
            what=f"find the rules for {value}",
        )
        rows = [row for row in body.get("result") or [] if isinstance(row, dict) and row.get("id")]
        rules = [_rule(row) for row in rows]
        return [rule for rule in rules if rule.target == target and rule.value == value]

    async def create(self, target: str, value: str, notes: str | None) -> Rule | None:
        """A block rule for this configuration; None when Cloudflare answers that a
        rule for it exists already (10009)."""
        rule: dict[str, Any] = {
            "mode": "block",
            "configuration": {"target": target, "value": value},
        }
        if notes:
            rule["notes"] = notes
        response = await self.http.request(
            "POST", self.rules_path, json=rule, what=f"block {value}"
        )
        body = envelope(response)
        if DUPLICATE in error_codes(body):
            return None
        result = (body or {}).get("result")
        if not isinstance(result, dict) or "id" not in result:
            raise TransientError(self.name, f"block {value}: the answer held no rule")
        return _rule(result)

    async def delete(self, rule_id: str) -> bool:
        """Delete a rule. False when Cloudflare no longer has it (404)."""
        response = await self.http.request(
            "DELETE", f"{self.rules_path}/{rule_id}", missing_ok=True, what=f"delete rule {rule_id}"
        )
        return response.status_code != 404

    async def zone(self) -> dict[str, Any]:
        """The zone's name and status, as Cloudflare describes it."""
        body = await self.http.json("GET", f"/zones/{self.zone_id}", what="read the zone")
        result = body.get("result")
        return result if isinstance(result, dict) else {}

    async def count_blocks(self) -> int:
        """How many block rules the zone has."""
        body = await self.http.json(
            "GET",
            self.rules_path,
            params={"mode": "block", "per_page": PER_PAGE},
            what="count the block rules",
        )
        info = body.get("result_info") or {}
        total = info.get("total_count")
        return total if isinstance(total, int) else len(body.get("result") or [])


async def check(name: str, options: CloudflareOptions) -> list[str]:
    """Reach Cloudflare, have the token accepted for the zone and read its rules —
    changing nothing (`soar integrations check`)."""
    client = CloudflareClient(name, options)
    try:
        zone = await client.zone()
        blocks = await client.count_blocks()
    finally:
        await client.aclose()
    named = zone.get("name") or options.zone_id
    return [
        f"reached zone {named} ({zone.get('status', 'status unknown')}) at {options.base_url}",
        "the API token was accepted and may read the zone's IP Access rules",
        f"{blocks} IP Access rules block addresses in the zone now",
    ]

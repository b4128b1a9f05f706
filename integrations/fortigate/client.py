"""The FortiOS REST API's banned list (the "quarantine" of banned IPs), over
:class:`VendorHttp`.

- `GET /api/v2/monitor/user/banned` lists the banned addresses: `results` of
  `{ip_address, ipv6, created, expires, source}` (times in epoch seconds, no `expires`
  or 0 for a ban without end);
- `POST …/banned/add_users` `{"ip_addresses": [ip], "expiry": seconds}` bans (0: until
  cleared); `POST …/banned/clear_users` `{"ip_addresses": [ip]}` lifts the ban.

FortiOS wraps every answer in an envelope `{status: "success"|"error", http_status,
error: <negative code>, …}`. It answers a rejected request with HTTP 500 and the code
— that is a definitive no, not an outage, so it is not retried — and some versions
put the error in an HTTP 200 with the status only in the envelope. A duplicate
(`-5`) answers a ban that is already there, and an entry not found (`-3`) a clear of
one that is not: both are answers, not failures.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

import httpx

from integrations.core.http import VendorHttp, default_explain
from integrations.fortigate.options import API_ROOT, FortigateOptions
from soar.integrations.errors import (
    AccessDenied,
    CredentialsRejected,
    IntegrationError,
    RequestRejected,
    TargetNotFound,
    TransientError,
)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

BANNED = f"{API_ROOT}/monitor/user/banned"
STATUS = f"{API_ROOT}/monitor/system/status"
DUPLICATE = -5
NOT_FOUND = -3
CODE_WORDS = {DUPLICATE: "a duplicate entry already exists", NOT_FOUND: "entry not found"}
"""FortiOS's meaning of the error codes the actuator meets as answers."""


@dataclass(frozen=True)
class Ban:
    """One banned address as FortiOS lists it."""

    address: Address
    expires: int | None
    """Epoch seconds when the ban ends (None: until cleared)."""
    source: str


def envelope(response: httpx.Response) -> dict[str, Any] | None:
    """The FortiOS envelope of an answer, or None when the body is not one."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) and "status" in body else None


def error_code(body: dict[str, Any] | None) -> int | None:
    """The negative FortiOS error code of an error envelope."""
    if body is None or body.get("status") != "error":
        return None
    code = body.get("error")
    return code if isinstance(code, int) else None


def fortios_explain(response: httpx.Response) -> str:
    """FortiOS's words for a failed answer: its code, what it means and its CLI error."""
    body = envelope(response)
    if body is None:
        return default_explain(response)
    code = error_code(body)
    words = [f"FortiOS error {code}" if code is not None else "FortiOS error"]
    if code in CODE_WORDS:
        words.append(CODE_WORDS[code])
    if body.get("cli_error"):
        words.append(str(body["cli_error"]).strip())
    return ": ".join(words)


class FortiHttp(VendorHttp):
    """:class:`VendorHttp` reading FortiOS's envelope: an error with a code is a
    definitive no even in a 500, an error inside a 200 is an error, and a duplicate
    is an answer."""

    def judge(
        self, response: httpx.Response, label: str, *, missing_ok: bool
    ) -> tuple[IntegrationError, float | None] | None:
        body = envelope(response)
        if body is None or body.get("status") != "error" or response.status_code == 429:
            return super().judge(response, label, missing_ok=missing_ok)
        code = error_code(body)
        http_status = body.get("http_status")
        status = http_status if isinstance(http_status, int) else response.status_code
        if code == DUPLICATE or (missing_ok and (code == NOT_FOUND or status == 404)):
            return None
        said = self.redact(fortios_explain(response))
        if status == 401:
            return CredentialsRejected(
                self.name, f"{label}: the API token was refused (401): {said}", status=401
            ), None
        if status == 403:
            return AccessDenied(
                self.name, f"{label}: the token's admin may not do this (403): {said}", status=403
            ), None
        if status == 404 or code == NOT_FOUND:
            return TargetNotFound(self.name, f"{label}: not found (404): {said}", status=404), None
        if code is None and status >= 500:
            if response.status_code >= 500:
                return super().judge(response, label, missing_ok=missing_ok)
            busy = TransientError(self.name, f"{label}: the FortiGate answered {status}: {said}")
            return busy, self._backoff(1)
        return RequestRejected(
            self.name, f"{label}: rejected ({status}): {said}", status=status
        ), None


class FortigateClient:
    """The banned list of one FortiGate (one VDOM)."""

    def __init__(self, name: str, options: FortigateOptions) -> None:
        self.name = name
        self._params = {"vdom": options.vdom} if options.vdom else {}
        self.http = FortiHttp(
            name,
            options,
            headers={
                "Authorization": f"Bearer {options.api_token.get_secret_value()}",
                "Accept": "application/json",
            },
            explain=fortios_explain,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def banned(self) -> dict[Address, Ban]:
        """Every address FortiOS has banned now."""
        body = await self.http.json(
            "GET", BANNED, params=self._params, what="read the banned addresses"
        )
        found: dict[Address, Ban] = {}
        for row in body.get("results") or []:
            if not isinstance(row, dict):
                continue
            try:
                address = ipaddress.ip_address(str(row.get("ip_address", "")))
            except ValueError:
                continue
            expires = row.get("expires")
            found[address] = Ban(
                address=address,
                expires=expires if isinstance(expires, int) and expires > 0 else None,
                source=str(row.get("source", "")),
            )
        return found

    async def ban(self, address: Address, seconds: int | None) -> bool:
        """Ban `address` for `seconds` (None: until cleared). False when FortiOS
        answers that it is banned already (duplicate, -5)."""
        response = await self.http.request(
            "POST",
            f"{BANNED}/add_users",
            params=self._params,
            json={"ip_addresses": [str(address)], "expiry": seconds or 0},
            what=f"ban {address}",
        )
        return error_code(envelope(response)) != DUPLICATE

    async def clear(self, address: Address) -> bool:
        """Lift the ban on `address`. False when FortiOS answers it was not banned."""
        response = await self.http.request(
            "POST",
            f"{BANNED}/clear_users",
            params=self._params,
            json={"ip_addresses": [str(address)]},
            missing_ok=True,
            what=f"clear the ban on {address}",
        )
        body = envelope(response)
        return response.status_code != 404 and error_code(body) is None

    async def system_status(self) -> dict[str, Any]:
        """The device's hostname, model, serial and FortiOS version."""
        body = await self.http.json("GET", STATUS, params=self._params, what="system status")
        results = body.get("results")
        found = dict(results) if isinstance(results, dict) else {}
        for field in ("serial", "version", "build"):
            if field in body:
                found[field] = body[field]
        return found


async def check(name: str, options: FortigateOptions) -> list[str]:
    """Reach the FortiGate, have the token accepted and read the banned list — changing
    nothing (`soar integrations check`)."""
    client = FortigateClient(name, options)
    try:
        status = await client.system_status()
        banned = await client.banned()
    finally:
        await client.aclose()
    device = status.get("hostname") or "the FortiGate"
    model = status.get("model_name") or status.get("model") or "FortiGate"
    version = status.get("version") or "unknown version"
    where = f"VDOM {options.vdom}" if options.vdom else "the token's default VDOM"
    return [
        f"reached {device} ({model}, FortiOS {version}) at {options.base_url}",
        "the API token was accepted",
        f"{len(banned)} addresses are banned now in {where}",
    ]

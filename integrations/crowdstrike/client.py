"""The Falcon API calls host containment needs: an OAuth2 token, finding a host by
name, reading its containment status and asking for a containment change.

Falcon reports some failures inside a successful answer (`errors: [{code, message}]`
next to `resources`); :func:`body_error` turns those into the same errors as an HTTP
status would, so a refusal is never read as a success.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from integrations.core.http import VendorHttp, default_explain
from integrations.core.oauth import ClientCredentials
from integrations.core.redaction import Redactor
from integrations.crowdstrike.options import CrowdStrikeOptions
from soar.integrations.errors import (
    AccessDenied,
    IntegrationError,
    RequestRejected,
    TargetNotFound,
)

AUTH_PATH = "/oauth2/token"
QUERY_PATH = "/devices/queries/devices/v1"
ENTITIES_PATH = "/devices/entities/devices/v2"
ACTIONS_PATH = "/devices/entities/devices-actions/v2"


@dataclass(frozen=True)
class FalconHost:
    """One host record: its agent id, name, containment `status` and when it was last seen."""

    device_id: str
    hostname: str
    status: str
    last_seen: str


def _errors(response: httpx.Response) -> list[dict[str, Any]]:
    """The `errors` list of a Falcon answer (empty when there is none or no JSON)."""
    try:
        body = response.json()
    except ValueError:
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def _words(error: dict[str, Any]) -> str:
    return f"{error.get('message') or 'no message'} (code {error.get('code')})"


def explain(response: httpx.Response) -> str:
    """Falcon's own words for a failed answer: its first error's message."""
    errors = _errors(response)
    return _words(errors[0]) if errors else default_explain(response)


def body_error(name: str) -> Callable[[httpx.Response], IntegrationError | None]:
    """The hook that reads an error out of a 2xx answer, mapped by its code."""

    def read(response: httpx.Response) -> IntegrationError | None:
        errors = _errors(response)
        if not errors:
            return None
        code = errors[0].get("code")
        words = f"Falcon reported {_words(errors[0])}"
        if code == 404:
            return TargetNotFound(name, words, status=404)
        if code == 403:
            return AccessDenied(name, words, status=403)
        return RequestRejected(name, words, status=code if isinstance(code, int) else None)

    return read


class FalconClient:
    """The Falcon hosts API of one configured actuator."""

    def __init__(
        self,
        name: str,
        options: CrowdStrikeOptions,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        redactor = Redactor(options.secrets())
        self.auth = ClientCredentials(
            name,
            AUTH_PATH,
            {
                "client_id": options.client_id,
                "client_secret": options.client_secret.get_secret_value(),
            },
            redactor,
        )
        self.http = VendorHttp(
            name,
            options,
            headers={"Accept": "application/json"},
            auth=self.auth,
            body_error=body_error(name),
            explain=explain,
            redactor=redactor,
            transport=transport,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def find(self, hostname: str) -> FalconHost | None:
        """The host of that name; of several records (a reinstalled sensor leaves the old
        one behind), the one seen last. None when Falcon knows no such host."""
        body = await self.http.json(
            "GET",
            QUERY_PATH,
            params={"filter": f"hostname:'{hostname}'"},
            what=f"find host {hostname}",
        )
        ids = [str(i) for i in body.get("resources") or []]
        if not ids:
            return None
        hosts = await self.hosts(ids, what=f"read host {hostname}")
        return max(hosts, key=lambda host: host.last_seen) if hosts else None

    async def hosts(self, device_ids: list[str], *, what: str) -> list[FalconHost]:
        """The records of these agent ids."""
        body = await self.http.json(
            "GET", ENTITIES_PATH, params=[("ids", i) for i in device_ids], what=what
        )
        return [
            FalconHost(
                device_id=str(item["device_id"]),
                hostname=str(item.get("hostname", "")),
                status=str(item.get("status", "")),
                last_seen=str(item.get("last_seen", "")),
            )
            for item in body.get("resources") or []
            if isinstance(item, dict) and "device_id" in item
        ]

    async def act(self, device_id: str, action_name: str, *, what: str) -> None:
        """Ask for `contain` or `lift_containment` of one host (Falcon answers 202)."""
        await self.http.request(
            "POST",
            ACTIONS_PATH,
            params={"action_name": action_name},
            json={"ids": [device_id]},
            what=what,
        )

    async def host_count(self) -> int:
        """How many hosts these credentials can see."""
        body = await self.http.json("GET", QUERY_PATH, params={"limit": 1}, what="count hosts")
        total = (body.get("meta") or {}).get("pagination", {}).get("total")
        return int(total) if total is not None else len(body.get("resources") or [])

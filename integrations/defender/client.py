"""The Defender for Endpoint API calls host isolation needs: a token from the Microsoft
identity platform, finding a machine by `computerDnsName`, its isolation machine
actions, and asking for `isolate` / `unisolate`.

Defender's errors are `{"error": {code, message, target}}`; :func:`explain` gives its
`message` and `code` as the vendor's words, which is how the actuator recognises the 400
"Action is already in progress" a repeated request gets while one is pending.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from integrations.core.http import VendorHttp, default_explain
from integrations.core.oauth import ClientCredentials
from integrations.core.redaction import Redactor
from integrations.defender.options import DefenderOptions

ISOLATE = "Isolate"
UNISOLATE = "Unisolate"
ISOLATION_TYPES = (ISOLATE, UNISOLATE)


@dataclass(frozen=True)
class Machine:
    """A machine Defender knows: its id, DNS name and when it was last seen."""

    id: str
    computer_dns_name: str
    last_seen: str


@dataclass(frozen=True)
class MachineAction:
    """One machine action (`type` Isolate or Unisolate here) and where it stands."""

    id: str
    type: str
    status: str
    created: str

    @classmethod
    def of(cls, item: dict[str, Any]) -> MachineAction:
        return cls(
            id=str(item["id"]),
            type=str(item.get("type", "")),
            status=str(item.get("status", "")),
            created=str(item.get("creationDateTimeUtc", "")),
        )


def explain(response: httpx.Response) -> str:
    """Defender's own words for a failed answer: `error.message (code)`."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        error = None
    if isinstance(error, dict) and error.get("message"):
        return f"{error['message']} ({error.get('code', 'no code')})"
    return default_explain(response)


def odata_string(value: str) -> str:
    """A value as an OData string literal (a quote is doubled)."""
    return "'" + value.replace("'", "''") + "'"


class DefenderClient:
    """The Defender machines API of one configured actuator."""

    def __init__(
        self,
        name: str,
        options: DefenderOptions,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        redactor = Redactor(options.secrets())
        self.auth = ClientCredentials(
            name,
            options.tenant_token_url(),
            {
                "grant_type": "client_credentials",
                "client_id": options.client_id,
                "client_secret": options.client_secret.get_secret_value(),
                "scope": options.scope,
            },
            redactor,
        )
        self.http = VendorHttp(
            name,
            options,
            headers={"Accept": "application/json"},
            auth=self.auth,
            explain=explain,
            redactor=redactor,
            transport=transport,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def find(self, hostname: str) -> Machine | None:
        """The machine of that DNS name; of several (a reinstall onboards anew), the one
        seen last. None when Defender knows none."""
        body = await self.http.json(
            "GET",
            "/api/machines",
            params={"$filter": f"computerDnsName eq {odata_string(hostname)}"},
            what=f"find machine {hostname}",
        )
        machines = [
            Machine(
                id=str(item["id"]),
                computer_dns_name=str(item.get("computerDnsName", "")),
                last_seen=str(item.get("lastSeen", "")),
            )
            for item in body.get("value") or []
            if isinstance(item, dict) and "id" in item
        ]
        return max(machines, key=lambda m: m.last_seen) if machines else None

    async def isolation_actions(self, machine: Machine) -> list[MachineAction]:
        """The machine's Isolate and Unisolate actions, oldest first."""
        body = await self.http.json(
            "GET",
            "/api/machineactions",
            params={"$filter": f"machineId eq {odata_string(machine.id)}"},
            what=f"read the isolation actions of {machine.computer_dns_name}",
        )
        actions = [
            MachineAction.of(item)
            for item in body.get("value") or []
            if isinstance(item, dict) and "id" in item and item.get("type") in ISOLATION_TYPES
        ]
        return sorted(actions, key=lambda a: a.created)

    async def action(self, action_id: str) -> MachineAction:
        """One machine action as it stands now."""
        body = await self.http.json(
            "GET", f"/api/machineactions/{action_id}", what=f"read machine action {action_id}"
        )
        return MachineAction.of(body)

    async def isolate(self, machine: Machine, comment: str, isolation_type: str) -> MachineAction:
        body = await self.http.json(
            "POST",
            f"/api/machines/{machine.id}/isolate",
            json={"Comment": comment, "IsolationType": isolation_type},
            what=f"isolate {machine.computer_dns_name}",
        )
        return MachineAction.of(body)

    async def unisolate(self, machine: Machine, comment: str) -> MachineAction:
        body = await self.http.json(
            "POST",
            f"/api/machines/{machine.id}/unisolate",
            json={"Comment": comment},
            what=f"release {machine.computer_dns_name} from isolation",
        )
        return MachineAction.of(body)

    async def machine_count(self) -> tuple[int, bool]:
        """How many machines the app can see in the first page, and whether there are more."""
        body = await self.http.json(
            "GET", "/api/machines", params={"$top": 1000}, what="count machines"
        )
        return len(body.get("value") or []), bool(body.get("@odata.nextLink"))

"""The part of the MISP REST API the enricher needs, over :class:`VendorHttp`.

- `POST /attributes/restSearch` with `{"returnFormat": "json", "value": ..., "type":
  [...], "limit": n, "includeEventTags": true, "includeContext": true}` answers
  `{"response": {"Attribute": [...]}}`; older instances answer `{"response": []}` when
  nothing matches, which reads the same.
- The key goes in `Authorization: <key>` (no scheme). MISP refuses a bad key with
  **403** and "Authentication failed…", which is a refused credential here, not a
  missing permission; other 403s stay :class:`AccessDenied`.
- Errors are `{name, message, url}`. A role's search limit answers 429 with
  `X-Rate-Limit-Reset` in seconds until the window (15 minutes) resets, which the
  shared wait reading takes as a delay.
- `GET /servers/getVersion` and `GET /users/view/me` are the check's read-only calls.
"""

from __future__ import annotations

from typing import Any

import httpx

from integrations.core.http import VendorHttp, default_explain
from integrations.misp.options import MispOptions
from soar.integrations.errors import CredentialsRejected, IntegrationError, RequestRejected

AUTH_FAILED = "authentication failed"
"""How MISP's 403 for a refused key begins."""


def misp_explain(response: httpx.Response) -> str:
    """MISP's words for a failed answer: the `message` (or `name`) of its error body."""
    try:
        body = response.json()
        words = body.get("message") or body.get("name")
    except (ValueError, AttributeError):
        return default_explain(response)
    return str(words) if words else default_explain(response)


class MispHttp(VendorHttp):
    """:class:`VendorHttp` reading MISP's 403 for a refused key as a refused key."""

    def judge(
        self, response: httpx.Response, label: str, *, missing_ok: bool
    ) -> tuple[IntegrationError, float | None] | None:
        if response.status_code == 403:
            words = self.redact(misp_explain(response))
            if words.lower().startswith(AUTH_FAILED):
                return CredentialsRejected(
                    self.name, f"{label}: MISP refused the API key (403): {words}", status=403
                ), None
        return super().judge(response, label, missing_ok=missing_ok)


class MispClient:
    """Attribute searches and the check's reads, for one configured MISP instance."""

    def __init__(self, name: str, options: MispOptions) -> None:
        self.name = name
        self.options = options
        self.http = MispHttp(
            name,
            options,
            headers={
                "Authorization": options.api_key.get_secret_value(),
                "Accept": "application/json",
            },
            explain=misp_explain,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def search_attributes(self, value: str, types: list[str]) -> list[dict[str, Any]]:
        """The attributes of type `types` whose value (or one half of a composite value,
        `ip-dst|port`) is `value`, with their event's context and tags."""
        what = f"search MISP for {value}"
        body = await self.http.json(
            "POST",
            "/attributes/restSearch",
            json={
                "returnFormat": "json",
                "value": value,
                "type": types,
                "limit": self.options.limit,
                "page": 1,
                "includeEventTags": True,
                "includeContext": True,
            },
            what=what,
        )
        response = body.get("response") if isinstance(body, dict) else None
        if isinstance(response, list) and not response:
            return []
        attributes = response.get("Attribute") if isinstance(response, dict) else None
        if not isinstance(attributes, list):
            raise RequestRejected(
                self.name,
                f"{what}: the answer is not a MISP attribute search; is base_url the MISP "
                "instance's URL?",
                status=200,
            )
        return [attribute for attribute in attributes if isinstance(attribute, dict)]

    async def version(self) -> str:
        """The instance's MISP version."""
        body = await self.http.json("GET", "/servers/getVersion", what="read MISP's version")
        version = body.get("version") if isinstance(body, dict) else None
        if not version:
            raise RequestRejected(
                self.name,
                "read MISP's version: the answer is not MISP's; is base_url the instance's URL?",
                status=200,
            )
        return str(version)

    async def me(self) -> tuple[str, str, str]:
        """The key's user: its email, organisation and role."""
        body = await self.http.json("GET", "/users/view/me", what="read the key's user")
        if not isinstance(body, dict):
            body = {}
        user = body.get("User") or {}
        organisation = body.get("Organisation") or {}
        role = body.get("Role") or {}
        return (
            str(user.get("email") or "an unnamed user"),
            str(organisation.get("name") or "no organisation"),
            str(role.get("name") or "no role"),
        )


async def check(name: str, options: MispOptions) -> list[str]:
    """Reach the instance and have the key accepted, changing nothing."""
    client = MispClient(name, options)
    try:
        version = await client.version()
        email, organisation, role = await client.me()
    finally:
        await client.aclose()
    return [
        f"reached MISP {version} at {options.base_url}",
        f"key accepted: it acts as {email} of {organisation} (role {role})",
    ]

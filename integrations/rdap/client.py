"""RDAP (RFC 9082 queries, RFC 9083 answers) over :class:`VendorHttp`.

`GET {base}/ip/{address}` and `GET {base}/domain/{name}` with `Accept:
application/rdap+json`. A bootstrap server such as rdap.org answers with a redirect to
the authoritative registry, which is followed. A 404 means the registry has no such
record — an answer, not a failure. Errors are `{errorCode, title, description[]}`. RDAP
is public: a server that answers 401 wants an authentication this integration does not
send, which is reported as refused credentials once, not retried.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from integrations.core.http import VendorHttp, default_explain
from integrations.rdap.options import RdapOptions
from soar.integrations.errors import CredentialsRejected, IntegrationError, RequestRejected

RDAP_JSON = "application/rdap+json"
CHECK_ADDRESS = "8.8.8.8"
"""What `check` looks up: Google's public resolver, which reveals nothing about us."""


def rdap_explain(response: httpx.Response) -> str:
    """The server's words for a failed answer: the error's title and description."""
    try:
        body = response.json()
        title = str(body["title"])
    except (ValueError, KeyError, TypeError):
        return default_explain(response)
    described = body.get("description")
    lines = [str(line) for line in described] if isinstance(described, list) else []
    return f"{title}: {' '.join(lines)}" if lines else title


class RdapHttp(VendorHttp):
    """:class:`VendorHttp` saying what a 401 from an RDAP server means."""

    def judge(
        self, response: httpx.Response, label: str, *, missing_ok: bool
    ) -> tuple[IntegrationError, float | None] | None:
        if response.status_code == 401:
            words = self.redact(rdap_explain(response))
            return CredentialsRejected(
                self.name,
                f"{label}: the RDAP server asks for an authentication this integration does "
                f"not send (401): {words}",
                status=401,
            ), None
        return super().judge(response, label, missing_ok=missing_ok)


class RdapClient:
    """IP network and domain records from one RDAP server (and where it redirects)."""

    def __init__(self, name: str, options: RdapOptions) -> None:
        self.name = name
        self.http = RdapHttp(
            name,
            options,
            headers={"Accept": f"{RDAP_JSON}, application/json"},
            explain=rdap_explain,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def ip_network(self, address: str) -> dict[str, Any] | None:
        """The IP network record holding `address`, or None when there is none."""
        return await self._record("ip", address, "ip network")

    async def domain(self, name: str) -> dict[str, Any] | None:
        """The domain record of `name`, or None when the registry holds none."""
        return await self._record("domain", name, "domain")

    async def _record(self, kind: str, value: str, object_class: str) -> dict[str, Any] | None:
        what = f"look up {value}"
        response = await self.http.request(
            "GET",
            f"/{kind}/{quote(value, safe=':')}",
            missing_ok=True,
            follow_redirects=True,
            what=what,
        )
        if response.status_code == 404:
            return None
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or body.get("objectClassName") != object_class:
            raise RequestRejected(
                self.name,
                f"{what}: the answer is not an RDAP {object_class} record; is base_url an "
                "RDAP server?",
                status=response.status_code,
            )
        return body


async def check(name: str, options: RdapOptions) -> list[str]:
    """Look up a public resolver's address and say who holds it, changing nothing."""
    client = RdapClient(name, options)
    try:
        network = await client.ip_network(CHECK_ADDRESS)
    finally:
        await client.aclose()
    if network is None:
        raise RequestRejected(
            name,
            f"the server has no record of {CHECK_ADDRESS}; is base_url an RDAP server?",
            status=404,
        )
    held = network.get("name") or network.get("handle") or "a network"
    return [f"reached {options.base_url}", f"{CHECK_ADDRESS} is in {held}"]

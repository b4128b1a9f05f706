"""The part of the Okta Users API the actuator needs, over :class:`VendorHttp`.

Okta answers errors as `{errorCode, errorSummary, errorCauses}`; the summary (and its
causes) are the vendor's words in every message. It signals a rate limit with 429 and
`X-Rate-Limit-Reset`, an epoch time, which the shared wait reading understands.
"""

from __future__ import annotations

from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from integrations.core.http import VendorHttp, default_explain
from integrations.okta.options import API_ROOT, OktaOptions
from soar.integrations.errors import RequestRejected

USER_NOT_FOUND = "E0000007"
"""Okta's error code for a resource that does not exist."""


class OktaUser(BaseModel):
    """The fields of an Okta user the actuator reads."""

    id: str
    status: str
    """STAGED, PROVISIONED, ACTIVE, RECOVERY, LOCKED_OUT, PASSWORD_EXPIRED, SUSPENDED or
    DEPROVISIONED."""
    login: str


def okta_explain(response: httpx.Response) -> str:
    """Okta's words for a failed answer: its summary, the causes, and the code."""
    try:
        body = response.json()
        summary = str(body["errorSummary"])
    except (ValueError, KeyError, TypeError):
        return default_explain(response)
    causes = [
        str(cause.get("errorSummary"))
        for cause in body.get("errorCauses") or []
        if isinstance(cause, dict) and cause.get("errorSummary")
    ]
    words = f"{summary}: {'; '.join(causes)}" if causes else summary
    code = body.get("errorCode")
    return f"{words} [{code}]" if code else words


def _error_code(response: httpx.Response) -> str | None:
    try:
        code = response.json().get("errorCode")
    except (ValueError, AttributeError):
        return None
    return str(code) if code else None


class OktaClient:
    """Users looked up and their lifecycle changed, for one configured Okta org."""

    def __init__(self, name: str, options: OktaOptions) -> None:
        self.name = name
        self.http = VendorHttp(
            name,
            options,
            headers={
                "Authorization": f"SSWS {options.api_token.get_secret_value()}",
                "Accept": "application/json",
            },
            explain=okta_explain,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def find_user(self, account: str) -> OktaUser | None:
        """The user whose login, email-style login or id is `account`; None when Okta
        says there is none (`E0000007`). A 404 without Okta's code means the URL does
        not lead to an Okta org, which is a configuration error."""
        what = f"find user {account}"
        response = await self.http.request(
            "GET", f"{API_ROOT}/users/{quote(account, safe='@')}", missing_ok=True, what=what
        )
        if response.status_code == 404:
            if _error_code(response) == USER_NOT_FOUND:
                return None
            raise RequestRejected(
                self.name,
                f"{what}: the server answered 404 without Okta's error body; is base_url "
                "the Okta org's URL?",
                status=404,
            )
        return self._user(response, what)

    async def token_owner(self) -> OktaUser:
        """The admin the API token acts as (`GET /users/me`): proof the token works."""
        what = "read the token's user"
        response = await self.http.request("GET", f"{API_ROOT}/users/me", what=what)
        return self._user(response, what)

    async def suspend(self, user_id: str) -> None:
        """Suspend an ACTIVE user (Okta answers 400 `E0000001` for any other status)."""
        await self.http.request(
            "POST", f"{API_ROOT}/users/{user_id}/lifecycle/suspend", what=f"suspend {user_id}"
        )

    async def unsuspend(self, user_id: str) -> None:
        """Return a SUSPENDED user to ACTIVE (400 `E0000001` for any other status)."""
        await self.http.request(
            "POST",
            f"{API_ROOT}/users/{user_id}/lifecycle/unsuspend",
            what=f"unsuspend {user_id}",
        )

    async def end_sessions(self, user_id: str) -> None:
        """End every session of the user and revoke its OAuth tokens (204)."""
        await self.http.request(
            "DELETE",
            f"{API_ROOT}/users/{user_id}/sessions",
            params={"oauthTokens": "true"},
            what=f"end the sessions of {user_id}",
        )

    def _user(self, response: httpx.Response, what: str) -> OktaUser:
        try:
            body = response.json()
            return OktaUser(id=body["id"], status=body["status"], login=body["profile"]["login"])
        except (ValueError, KeyError, TypeError, ValidationError):
            raise RequestRejected(
                self.name,
                f"{what}: the answer is not an Okta user; is base_url the Okta org's URL?",
                status=response.status_code,
            ) from None


async def check(name: str, options: OktaOptions) -> list[str]:
    """Reach the org and have the token accepted, changing nothing."""
    client = OktaClient(name, options)
    try:
        owner = await client.token_owner()
    finally:
        await client.aclose()
    return [
        f"reached {options.base_url}",
        f"token accepted: it acts as {owner.login} ({owner.status})",
    ]

"""The part of Microsoft Graph the Entra actuator needs, over :class:`VendorHttp`.

Tokens come from the Microsoft identity platform by the client-credentials grant
(:class:`ClientCredentials`: fetched once, renewed before expiry or when Graph answers
401). Graph answers errors as `{"error": {code, message, innerError}}`; the message and
code are the vendor's words in every message. It signals a rate limit with 429 and
`Retry-After` in seconds.
"""

from __future__ import annotations

from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from integrations.core.http import VendorHttp, default_explain
from integrations.core.oauth import ClientCredentials
from integrations.core.redaction import Redactor
from integrations.entra.options import GRAPH_SCOPE, EntraOptions
from soar.integrations.errors import RequestRejected

NOT_FOUND = "Request_ResourceNotFound"
"""Graph's error code for a directory object that does not exist."""
USER_FIELDS = "id,accountEnabled,userPrincipalName"


class EntraUser(BaseModel):
    """The fields of a directory user the actuator reads."""

    id: str
    account_enabled: bool
    user_principal_name: str


def graph_explain(response: httpx.Response) -> str:
    """Graph's words for a failed answer: `error.message` and `error.code`."""
    try:
        error = response.json()["error"]
        message = str(error["message"])
    except (ValueError, KeyError, TypeError):
        return default_explain(response)
    code = error.get("code")
    return f"{message} [{code}]" if code else message


def _error_code(response: httpx.Response) -> str | None:
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None
    return str(code)


class GraphClient:
    """Users read, enabled or disabled, and their sessions revoked, in one tenant."""

    def __init__(self, name: str, options: EntraOptions) -> None:
        self.name = name
        redactor = Redactor(options.secrets())
        self.auth = ClientCredentials(
            name,
            options.token_endpoint(),
            {
                "grant_type": "client_credentials",
                "client_id": options.client_id,
                "client_secret": options.client_secret.get_secret_value(),
                "scope": GRAPH_SCOPE,
            },
            redactor,
        )
        self.http = VendorHttp(
            name,
            options,
            headers={"Accept": "application/json"},
            auth=self.auth,
            explain=graph_explain,
            redactor=redactor,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def find_user(self, account: str) -> EntraUser | None:
        """The user whose user principal name or object id is `account`; None when Graph
        says there is none. A 404 without Graph's error body means `base_url` does not
        lead to Graph, which is a configuration error."""
        what = f"find user {account}"
        response = await self.http.request(
            "GET",
            f"/v1.0/users/{quote(account, safe='@')}",
            params={"$select": USER_FIELDS},
            missing_ok=True,
            what=what,
        )
        if response.status_code == 404:
            if _error_code(response) == NOT_FOUND:
                return None
            raise RequestRejected(
                self.name,
                f"{what}: the server answered 404 without Graph's error body; is base_url "
                "Microsoft Graph's root?",
                status=404,
            )
        try:
            body = response.json()
            return EntraUser(
                id=body["id"],
                account_enabled=body["accountEnabled"],
                user_principal_name=body["userPrincipalName"],
            )
        except (ValueError, KeyError, TypeError, ValidationError):
            raise RequestRejected(
                self.name,
                f"{what}: the answer is not a Graph user; is base_url Microsoft Graph's root?",
                status=response.status_code,
            ) from None

    async def set_enabled(self, user_id: str, enabled: bool) -> None:
        """Allow (`True`) or block (`False`) the user's sign-in (Graph answers 204)."""
        await self.http.request(
            "PATCH",
            f"/v1.0/users/{user_id}",
            json={"accountEnabled": enabled},
            what=f"{'enable' if enabled else 'disable'} {user_id}",
        )

    async def revoke_sign_in_sessions(self, user_id: str) -> bool:
        """Invalidate the user's refresh tokens and session cookies; Graph's `value`."""
        body = await self.http.json(
            "POST",
            f"/v1.0/users/{user_id}/revokeSignInSessions",
            what=f"revoke the sessions of {user_id}",
        )
        return isinstance(body, dict) and body.get("value") is True

    async def read_one_user(self) -> None:
        """List one user's id: proof the token is accepted and users are readable."""
        await self.http.request(
            "GET",
            "/v1.0/users",
            params={"$top": "1", "$select": "id"},
            what="list users",
        )


async def check(name: str, options: EntraOptions) -> list[str]:
    """Get a token and have Graph accept it, changing nothing."""
    client = GraphClient(name, options)
    try:
        await client.read_one_user()
    finally:
        await client.aclose()
    return [
        f"token issued for application {options.client_id} in tenant {options.tenant_id}",
        f"token accepted by {options.base_url}: users are readable",
    ]

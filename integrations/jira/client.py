"""The part of Jira Cloud's REST API v3 the ticket system needs, over :class:`VendorHttp`.

Jira answers errors as `{errorMessages: [...], errors: {field: message}}`; both are the
vendor's words in every message. A rate limit is 429 with `Retry-After` (seconds) and
`X-RateLimit-Reset` (an ISO time), which the shared wait reading understands. Search is
`POST /search/jql` (the older `/search` is gone from Jira Cloud).
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

import httpx

from integrations.core.http import VendorHttp, default_explain
from integrations.core.redaction import Redactor
from integrations.jira.options import API_ROOT, JiraOptions
from soar.integrations.errors import RequestRejected


def jira_explain(response: httpx.Response) -> str:
    """Jira's words for a failed answer: its error messages, then each field's."""
    try:
        body = response.json()
        messages = [str(m) for m in body.get("errorMessages") or []]
        fields = [f"{field}: {message}" for field, message in (body.get("errors") or {}).items()]
    except (ValueError, AttributeError, TypeError):
        return default_explain(response)
    return "; ".join(messages + fields) or default_explain(response)


def basic_credentials(options: JiraOptions) -> str:
    """`email:api_token` as the Basic credentials Jira Cloud takes."""
    pair = f"{options.email}:{options.api_token.get_secret_value()}"
    return base64.b64encode(pair.encode()).decode()


class JiraClient:
    """Issues searched, created and commented in one Jira Cloud site."""

    def __init__(self, name: str, options: JiraOptions) -> None:
        self.name = name
        credentials = basic_credentials(options)
        self.http = VendorHttp(
            name,
            options,
            headers={"Authorization": f"Basic {credentials}", "Accept": "application/json"},
            explain=jira_explain,
            redactor=Redactor([*options.secrets(), credentials]),
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def search(self, jql: str, *, fields: list[str], limit: int) -> list[dict[str, Any]]:
        """The issues `jql` finds (the first page, `limit` at most)."""
        body = {"jql": jql, "fields": fields, "maxResults": limit}
        answer = await self.http.json(
            "POST", f"{API_ROOT}/search/jql", json=body, what="search issues"
        )
        issues = answer.get("issues") if isinstance(answer, dict) else None
        if not isinstance(issues, list):
            raise self._not_jira("search issues")
        return [issue for issue in issues if isinstance(issue, dict)]

    async def create_issue(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Create an issue; Jira answers 201 `{id, key, self}`."""
        answer = await self.http.json(
            "POST",
            f"{API_ROOT}/issue",
            json={"fields": fields},
            what="create an issue",
            idempotent=False,
        )
        if not isinstance(answer, dict) or not answer.get("key"):
            raise self._not_jira("create an issue")
        return answer

    async def comments(self, key: str, *, limit: int) -> list[dict[str, Any]]:
        """The newest comments of an issue (`limit` at most)."""
        answer = await self.http.json(
            "GET",
            f"{API_ROOT}/issue/{quote(key)}/comment",
            params={"orderBy": "-created", "maxResults": limit},
            what=f"read the comments of {key}",
        )
        comments = answer.get("comments") if isinstance(answer, dict) else None
        if not isinstance(comments, list):
            raise self._not_jira(f"read the comments of {key}")
        return [comment for comment in comments if isinstance(comment, dict)]

    async def add_comment(self, key: str, body: dict[str, Any]) -> None:
        """Add a comment (an ADF document) to an issue."""
        await self.http.request(
            "POST",
            f"{API_ROOT}/issue/{quote(key)}/comment",
            json={"body": body},
            what=f"comment on {key}",
            idempotent=False,
        )

    async def myself(self) -> dict[str, Any]:
        """The account the credentials act as."""
        answer = await self.http.json("GET", f"{API_ROOT}/myself", what="read the account")
        if not isinstance(answer, dict) or "accountId" not in answer:
            raise self._not_jira("read the account")
        return answer

    async def project(self, key: str) -> dict[str, Any]:
        """A project the account can browse."""
        answer = await self.http.json(
            "GET", f"{API_ROOT}/project/{quote(key)}", what=f"read project {key}"
        )
        if not isinstance(answer, dict) or "key" not in answer:
            raise self._not_jira(f"read project {key}")
        return answer

    def _not_jira(self, what: str) -> RequestRejected:
        return RequestRejected(
            self.name, f"{what}: the answer is not Jira's; is base_url the Jira site's URL?"
        )

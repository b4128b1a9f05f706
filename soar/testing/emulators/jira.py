"""A Jira Cloud site on loopback: the REST API v3 calls the Jira ticket system makes,
played the way Atlassian documents them.

- Basic `email:api_token`; anything else is 401.
- `POST /rest/api/3/issue` `{fields: {project: {key}, issuetype: {name}, summary,
  description (ADF), labels, priority?}}` → 201 `{id, key, self}`. Each field is
  checked as Jira does: the project and issue type must exist, the summary be one line of
  at most 255 characters, the description a valid ADF document (no empty text nodes),
  labels free of spaces, the priority a known one — else 400 `{errorMessages, errors}`.
  Creating is not idempotent: the same fields twice are two issues.
- `POST /rest/api/3/search/jql` `{jql, fields, maxResults}` → `{issues, isLast}`, for
  JQL of `project`, `labels` and `key` clauses joined by AND (ORDER BY accepted); other
  JQL is 400.
- `GET|POST /rest/api/3/issue/{key}/comment` (comments in ADF); an unknown issue is 404.
- `GET /rest/api/3/myself`, `GET /rest/api/3/project/{key}`.
- A rate limit is 429 with `Retry-After` (seconds) and `X-RateLimit-Reset` (ISO time).

Tests read the issues (:attr:`JiraEmulator.issues`, :meth:`comments_on`) and count the
creates (:attr:`tickets_created`).
"""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from soar.testing.emulators.base import VendorEmulator

API = "/rest/api/3"
ISSUE_TYPES = frozenset({"Task", "Bug", "Incident", "Story"})
PRIORITIES = frozenset({"Highest", "High", "Medium", "Low", "Lowest"})
BLOCKS = frozenset({"paragraph", "bulletList", "orderedList", "listItem", "heading", "rule"})
INLINE = frozenset({"text", "hardBreak"})
MARKS = frozenset({"strong", "em", "code", "link"})
CLAUSE = re.compile(r'^\s*(project|labels|key)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([\w.:-]+))\s*$')


def jira_error(status: int, *messages: str, **fields: str) -> web.Response:
    return web.json_response({"errorMessages": list(messages), "errors": fields}, status=status)


def adf_problem(node: Any, *, top: bool = True) -> str | None:
    """What makes `node` not an ADF document Jira takes (None: it is one)."""
    if top:
        if not isinstance(node, dict) or node.get("type") != "doc" or node.get("version") != 1:
            return "the document must be {type: doc, version: 1}"
        content = node.get("content")
        if not isinstance(content, list):
            return "the document needs content"
        return next((p for child in content if (p := adf_problem(child, top=False))), None)
    if not isinstance(node, dict) or node.get("type") not in BLOCKS | INLINE:
        return f"unknown node {node.get('type') if isinstance(node, dict) else node!r}"
    if node["type"] == "text":
        if not isinstance(node.get("text"), str) or not node["text"]:
            return "a text node must have non-empty text"
        for mark in node.get("marks") or []:
            if not isinstance(mark, dict) or mark.get("type") not in MARKS:
                return "unknown mark"
            if mark["type"] == "link" and not str((mark.get("attrs") or {}).get("href", "")):
                return "a link mark needs an href"
        return None
    children = node.get("content") or []
    if not isinstance(children, list):
        return "content must be a list"
    return next((p for child in children if (p := adf_problem(child, top=False))), None)


def adf_words(node: dict[str, Any]) -> str:
    """The text of an ADF node (text nodes in order, breaks as new lines)."""
    if node.get("type") == "text":
        return str(node.get("text", ""))
    if node.get("type") == "hardBreak":
        return "\n"
    parts = [adf_words(c) for c in node.get("content") or [] if isinstance(c, dict)]
    return ("\n\n" if node.get("type") in ("doc", "bulletList", "listItem") else "").join(parts)


@dataclass
class JiraIssue:
    """One issue of the emulated site."""

    id: str
    key: str
    project: str
    issue_type: str
    summary: str
    description: dict[str, Any]
    labels: list[str]
    priority: str | None
    created: str
    comments: list[dict[str, Any]] = field(default_factory=list)


class JiraEmulator(VendorEmulator):
    """The emulated site; see the module docstring."""

    create_call = ("POST", f"{API}/issue")

    def __init__(
        self, *, email: str = "soar@example.com", projects: dict[str, str] | None = None
    ) -> None:
        super().__init__()
        self.email = email
        self.token = "ATATT" + secrets.token_urlsafe(30)
        self.secrets: list[str] = [self.token]
        self.projects = projects or {"SEC": "Security"}
        self.issues: dict[str, JiraIssue] = {}
        self.last_reset: str | None = None

    # Reading state

    @property
    def tickets_created(self) -> int:
        return len(self.issues)

    @property
    def requests(self) -> int:
        return len(self.calls)

    def comments_on(self, key: str) -> list[str]:
        issue = self.issues.get(key)
        return [adf_words(c["body"]) for c in issue.comments] if issue else []

    def with_label(self, label: str) -> list[JiraIssue]:
        return [issue for issue in self.issues.values() if label in issue.labels]

    # The vendor's ways

    def authorized(self, request: web.Request) -> bool:
        expected = base64.b64encode(f"{self.email}:{self.token}".encode()).decode()
        return request.headers.get("Authorization") == f"Basic {expected}"

    def unauthorized(self) -> web.Response:
        return jira_error(401, "Client must be authenticated to access this resource.")

    def wait_headers(self, seconds: float) -> dict[str, str]:
        reset = datetime.now(UTC) + timedelta(seconds=seconds)
        self.last_reset = reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return {"Retry-After": str(int(seconds)), "X-RateLimit-Reset": self.last_reset}

    def rate_limited_body(self) -> Any:
        return {"errorMessages": ["Rate limit exceeded."], "errors": {}}

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post(f"{API}/issue", self._create),
            web.post(f"{API}/search/jql", self._search),
            web.get(f"{API}/issue/{{key}}/comment", self._comments),
            web.post(f"{API}/issue/{{key}}/comment", self._add_comment),
            web.get(f"{API}/myself", self._myself),
            web.get(f"{API}/project/{{key}}", self._project),
        ]

    async def _create(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            fields = body["fields"]
        except (ValueError, KeyError, TypeError):
            return jira_error(400, "The request body is not a valid issue.")
        problems = self._field_problems(fields)
        if problems:
            return jira_error(400, **problems)
        number = len(self.issues) + 1
        project = fields["project"]["key"]
        issue = JiraIssue(
            id=str(10000 + number),
            key=f"{project}-{number}",
            project=project,
            issue_type=fields["issuetype"]["name"],
            summary=fields["summary"],
            description=fields.get("description") or {},
            labels=list(fields.get("labels") or []),
            priority=(fields.get("priority") or {}).get("name"),
            created=datetime.now(UTC).isoformat(),
        )
        self.issues[issue.key] = issue
        return web.json_response(
            {"id": issue.id, "key": issue.key, "self": f"{self.base_url}{API}/issue/{issue.id}"},
            status=201,
        )

    def _field_problems(self, fields: Any) -> dict[str, str]:
        if not isinstance(fields, dict):
            return {"fields": "fields must be an object"}
        problems: dict[str, str] = {}
        if (fields.get("project") or {}).get("key") not in self.projects:
            problems["project"] = "valid project is required"
        if (fields.get("issuetype") or {}).get("name") not in ISSUE_TYPES:
            problems["issuetype"] = "Specify a valid issue type"
        summary = fields.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            problems["summary"] = "You must specify a summary of the issue."
        elif len(summary) > 255:
            problems["summary"] = "Summary must be less than 255 characters."
        elif "\n" in summary or "\r" in summary:
            problems["summary"] = "The summary is invalid because it contains newline characters."
        if "description" in fields and adf_problem(fields["description"]):
            problems["description"] = (
                "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
            )
        for label in fields.get("labels") or []:
            if not isinstance(label, str) or not label or any(c.isspace() for c in label):
                problems["labels"] = f"The label '{label}' contains spaces which is invalid."
        if "priority" in fields and (fields["priority"] or {}).get("name") not in PRIORITIES:
            problems["priority"] = "Specify the Priority (name) in the string format"
        return problems

    async def _search(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            jql = str(body["jql"])
            limit = int(body.get("maxResults", 50))
        except (ValueError, KeyError, TypeError):
            return jira_error(400, "Invalid request payload. Refer to the REST API documentation.")
        where = re.split(r"\s+ORDER\s+BY\s+", jql, maxsplit=1, flags=re.IGNORECASE)[0]
        wanted: list[tuple[str, str]] = []
        for clause in re.split(r"\s+AND\s+", where, flags=re.IGNORECASE):
            match = CLAUSE.match(clause)
            if match is None:
                return jira_error(400, f"Error in the JQL Query: cannot read '{clause.strip()}'.")
            value = match.group(2) if match.group(2) is not None else match.group(3)
            wanted.append((match.group(1), re.sub(r"\\(.)", r"\1", value)))
        found = [i for i in self.issues.values() if all(_matches(i, f, v) for f, v in wanted)]
        found.sort(key=lambda issue: issue.created)
        return web.json_response(
            {
                "issues": [
                    {
                        "id": issue.id,
                        "key": issue.key,
                        "self": f"{self.base_url}{API}/issue/{issue.id}",
                        "fields": {"summary": issue.summary, "labels": issue.labels},
                    }
                    for issue in found[:limit]
                ],
                "isLast": len(found) <= limit,
            }
        )

    async def _comments(self, request: web.Request) -> web.Response:
        issue = self.issues.get(request.match_info["key"])
        if issue is None:
            return _no_issue()
        limit = int(request.query.get("maxResults", "50"))
        ordered = (
            list(reversed(issue.comments))
            if request.query.get("orderBy") == "-created"
            else issue.comments
        )
        return web.json_response(
            {
                "comments": ordered[:limit],
                "startAt": 0,
                "maxResults": limit,
                "total": len(issue.comments),
            }
        )

    async def _add_comment(self, request: web.Request) -> web.Response:
        issue = self.issues.get(request.match_info["key"])
        if issue is None:
            return _no_issue()
        try:
            body = (await request.json())["body"]
        except (ValueError, KeyError, TypeError):
            return jira_error(400, "Comment body can not be empty!")
        if adf_problem(body):
            return jira_error(400, "Comment body is not a valid Atlassian Document.")
        comment = {"id": str(20000 + len(issue.comments)), "body": body}
        issue.comments.append(comment)
        return web.json_response(comment, status=201)

    async def _myself(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "accountId": "5b10ac8d82e05b22cc7d4ef5",
                "displayName": "SOAR",
                "emailAddress": self.email,
            }
        )

    async def _project(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        if key not in self.projects:
            return jira_error(404, "No project could be found with key '" + key + "'.")
        return web.json_response({"id": "10000", "key": key, "name": self.projects[key]})


def _matches(issue: JiraIssue, field_name: str, value: str) -> bool:
    if field_name == "project":
        return issue.project == value
    if field_name == "key":
        return issue.key == value
    return value in issue.labels


def _no_issue() -> web.Response:
    return jira_error(404, "Issue does not exist or you do not have permission to see it.")

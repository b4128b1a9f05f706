"""The options of a Jira Cloud ticket system: the site, an account's API token, and
the project issues are opened in."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from integrations.core.options import HttpOptions
from soar.alerts.models import Severity

API_ROOT = "/rest/api/3"


class JiraOptions(HttpOptions):
    """`base_url` is the site (`https://<site>.atlassian.net`); requests are signed with
    Basic `email:api_token` (an API token of the account, id.atlassian.com → Security).
    The account needs to browse and create issues in `project` and add comments.

    Each case's issue carries the label `<label_prefix><case id>`, which is how the case's
    issue is found again. `priorities` maps severities to the project's priority names;
    empty (the default) sends no priority, for a create screen without that field."""

    base_url: str = Field(min_length=1, description="The Jira site, https://<site>.atlassian.net.")
    email: str = Field(min_length=3, description="The account the API token belongs to.")
    api_token: SecretStr = Field(description="The account's Atlassian API token.")
    project: str = Field(
        pattern=r"^[A-Z][A-Z0-9_]{1,254}$", description="The project key issues go to (SEC)."
    )
    issue_type: str = Field(default="Task", min_length=1, description="Task, Bug, Incident…")
    label_prefix: str = Field(
        default="soar-", pattern=r"^\S{1,50}$", description="The case label's prefix."
    )
    labels: list[str] = Field(default_factory=lambda: ["soar"], description="Labels added too.")
    priorities: dict[Severity, str] = Field(default_factory=dict)
    web_url: str | None = Field(
        default=None, min_length=1, description="Where people open issues (default: base_url)."
    )

    @field_validator("base_url", "web_url")
    @classmethod
    def _site_root(cls, value: str | None) -> str | None:
        """The site's root: a URL pasted with `/rest/api/3` on its end still works."""
        return value.rstrip("/").removesuffix(API_ROOT) if value is not None else None

    @field_validator("labels")
    @classmethod
    def _labels_have_no_spaces(cls, labels: list[str]) -> list[str]:
        spaced = [label for label in labels if not label or any(c.isspace() for c in label)]
        if spaced:
            raise ValueError("Jira labels cannot be empty or hold spaces")
        return labels

    @property
    def browse_root(self) -> str:
        """Where an issue's page is: `<site>/browse/<key>`."""
        return f"{self.web_url or self.base_url}/browse"

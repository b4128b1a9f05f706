"""The options of a ServiceNow ticket system: the instance, an integration user, and
where and how incidents are opened."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator

from integrations.core.options import HttpOptions

API_ROOT = "/api/now"


class ServiceNowOptions(HttpOptions):
    """`base_url` is the instance (`https://<instance>.service-now.com`); calls are signed
    with Basic `username:password` of an integration user who may read and create
    records of `table` (ITIL) and, to keep a comment from being added twice, read its
    journal (`sys_journal_field`; without that right a retried comment may show twice).

    Each case's incident has the case id as its `correlation_id` (with
    `correlation_display`), which is how it is found again. `comment_field` is
    `work_notes` (seen by the IT staff only) or `comments` (seen by the caller too)."""

    base_url: str = Field(
        min_length=1, description="The instance, https://<instance>.service-now.com."
    )
    username: str = Field(min_length=1, description="The integration user.")
    password: SecretStr = Field(description="Its password.")
    table: str = Field(default="incident", pattern=r"^[a-z][a-z0-9_]{0,79}$")
    comment_field: Literal["work_notes", "comments"] = "work_notes"
    correlation_display: str = Field(default="SOAR", min_length=1, max_length=100)
    assignment_group: str | None = Field(
        default=None, min_length=1, description="The group incidents go to (sys_id or name)."
    )
    caller_id: str | None = Field(default=None, min_length=1, description="The caller (sys_id).")
    category: str | None = Field(default=None, min_length=1)
    max_description: int = Field(
        default=4000, ge=100, le=1_000_000, description="The instance's description length."
    )
    web_url: str | None = Field(
        default=None, min_length=1, description="Where people open records (default: base_url)."
    )

    @field_validator("base_url", "web_url")
    @classmethod
    def _instance_root(cls, value: str | None) -> str | None:
        """The instance's root: a URL pasted with `/api/now` on its end still works."""
        return value.rstrip("/").removesuffix(API_ROOT) if value is not None else None

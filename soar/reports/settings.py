"""The `[reports]` table: where summaries and digests go and how they look."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class ReportSettings(BaseModel):
    """Settings of case summaries and digests (see the README's "Reports" section)."""

    templates_dir: Path | None = Field(
        default=None,
        description=(
            "A directory whose templates replace the shipped ones of the same name "
            "(the rest stay the shipped ones)."
        ),
    )
    management_channel: str | None = Field(
        default=None,
        description="The Slack channel (id or #name) that receives digests and executive reports.",
    )
    timezone: str = Field(
        default="UTC", description="The IANA time zone digests count days and send times in."
    )

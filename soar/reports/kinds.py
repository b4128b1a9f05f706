"""Which report and in which format: the vocabulary every surface (CLI, API, Slack)
offers, kept apart from the rendering so a parser can name it without loading it."""

from __future__ import annotations

from enum import StrEnum


class ReportKind(StrEnum):
    """Which case summary: everything for the people it is escalated to; the tactical
    report in Dispatch's CAN form (conditions, actions, needs); the executive report,
    impact and decisions in a minute's reading."""

    ESCALATION = "escalation"
    TACTICAL = "tactical"
    EXECUTIVE = "executive"

    @property
    def label(self) -> str:
        return {
            ReportKind.ESCALATION: "Escalation summary",
            ReportKind.TACTICAL: "Tactical report",
            ReportKind.EXECUTIVE: "Executive report",
        }[self]


class ReportFormat(StrEnum):
    """Markdown, HTML ready for e-mail, or Slack Block Kit."""

    MARKDOWN = "md"
    HTML = "html"
    SLACK = "slack"

    @property
    def media_type(self) -> str:
        return {
            ReportFormat.MARKDOWN: "text/markdown; charset=utf-8",
            ReportFormat.HTML: "text/html; charset=utf-8",
            ReportFormat.SLACK: "application/json",
        }[self]

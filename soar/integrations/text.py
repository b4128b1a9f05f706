"""Text as vendors take it: alert content made plain and cut to a field's limit.

Titles, summaries and descriptions carry attacker-controlled text to products that have
their own limits (Jira summaries 255 characters on one line, ServiceNow short
descriptions 160, PagerDuty summaries 1,024). Control and format characters are dropped
(:func:`soar.safe_text.visible`) so nothing reads differently from what it is, and a
cut is marked with an ellipsis so nobody mistakes it for the whole.
"""

from __future__ import annotations

from soar.safe_text import visible

ELLIPSIS = "…"


def clipped(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, an ellipsis marking the cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - len(ELLIPSIS), 0)].rstrip() + ELLIPSIS


def one_line(text: str, limit: int) -> str:
    """`text` on one line (runs of white space as one space), visible characters only,
    at most `limit` characters."""
    return clipped(" ".join(visible(text, keep_newlines=True).split()), limit)


def plain(text: str, limit: int) -> str:
    """`text` with its line breaks, visible characters only, at most `limit` characters
    (Windows line ends as `\\n`)."""
    return clipped(visible(text.replace("\r\n", "\n"), keep_newlines=True), limit)

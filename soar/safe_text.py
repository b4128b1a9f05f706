"""Text that comes from alerts and people, made safe to show (Slack and reports alike).

Alert content is attacker-controlled: control and format characters (bidirectional
overrides, zero-width marks) can make text read differently from what it is, and Slack
parses `<…>` in message text as mentions and links. The bot (`bot.mrkdwn`) and the
report templates (`soar.reports`) both escape through here.
"""

from __future__ import annotations

import unicodedata

_KEPT_CONTROLS = {"\n", "\t"}


def visible(text: str, *, keep_newlines: bool) -> str:
    """`text` without control and format characters (line breaks and tabs kept when
    `keep_newlines`)."""
    kept = _KEPT_CONTROLS if keep_newlines else set()
    return "".join(
        char
        for char in text
        if char in kept or unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Co")
    )


def escape_mrkdwn(text: str) -> str:
    """`&`, `<` and `>` as entities, so nothing in `text` is parsed as Slack markup."""
    return (
        visible(text, keep_newlines=True)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )

"""Safe text for Slack: escaping, clipping, dates, mentions and links.

Alert content is attacker-controlled. Slack parses `<…>` in message text as mentions
(`<!channel>`, `<@U123>`) and links (`<https://x|y>`), so every string that comes from
an alert, a note or any person goes through :func:`escape` (or :func:`oneline`) before
it is placed in a message; only this module writes `<…>` sequences, for the dates,
mentions and links the bot itself means.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import quote, urlsplit

from bot.settings import SLACK_USER_ID
from soar.safe_text import escape_mrkdwn
from soar.safe_text import visible as _visible

TRUNCATION_MARK = "…(truncated)"
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")
_WHITESPACE = re.compile(r"\s+")
DATE_FORMAT = "{date_short_pretty} at {time}"
BACKTICK_STANDIN = "\u02cb"
"""MODIFIER LETTER GRAVE ACCENT: looks like a backtick inside code, cannot end it."""


def escape(text: str) -> str:
    """`&`, `<` and `>` as entities, so nothing in `text` is parsed as markup."""
    return escape_mrkdwn(text)


def oneline(text: str, limit: int = 300) -> str:
    """Escaped, on one line, clipped: for titles, targets, observables and names, where
    an attacker's line break could otherwise forge a line of the bot's own."""
    head = text[: limit * 4]
    flat = _WHITESPACE.sub(" ", _visible(head, keep_newlines=False)).strip()
    return clip(escape(flat), limit, cut=len(head) < len(text))


def quoted(text: str, limit: int) -> str:
    """Escaped multi-line text as a block quote, so it reads as quoted data."""
    head = text[: limit + 1]
    lines = escape(head.strip()).split("\n")
    return clip("\n".join(f">{line}" for line in lines), limit, cut=len(head) < len(text))


def clip(text: str, limit: int, *, cut: bool = False) -> str:
    """`text` cut to `limit` characters with a visible mark, never inside an entity.
    `cut` says the text was shortened already, so it gets the mark whatever its length."""
    if len(text) <= limit and not cut:
        return text
    head = _PARTIAL_ENTITY.sub("", text[: max(limit - len(TRUNCATION_MARK), 0)])
    return head + TRUNCATION_MARK


def code(text: str, limit: int = 200) -> str:
    """Escaped inline code; backticks in the value cannot end the span early."""
    return f"`{oneline(text.replace('`', BACKTICK_STANDIN), limit)}`"


def date(at: datetime, fmt: str = DATE_FORMAT) -> str:
    """A date every reader sees in their own time zone, with a UTC fallback."""
    fallback = at.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(at.timestamp())}^{fmt}|{fallback}>"


def mention(slack_user_id: str) -> str:
    """A mention of a Slack user id the bot itself resolved (never of alert text)."""
    if not SLACK_USER_ID.match(slack_user_id):
        return oneline(slack_user_id, 100)
    return f"<@{slack_user_id}>"


def link(url: str | None, label: str) -> str | None:
    """A link to an http(s) URL with a fixed label, or `None` for anything else.

    The URL may come from an alert (the SIEM link): other schemes are refused, and the
    characters that would end the link or start a label are percent-encoded.
    """
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    safe = quote(_visible(url.strip(), keep_newlines=False), safe=":/?#[]@!$&'()*+,;=%~-._")
    return f"<{safe.replace('&', '&amp;')}|{escape(label)}>"

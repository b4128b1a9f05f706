"""Untrusted text made fit for a report: cleaned, clipped, and escaped per format.

Everything a report shows about a case came, in the end, from whoever can send an
alert. It is cleaned once, when the report's context is gathered (control and format
characters such as bidirectional overrides removed, huge values clipped with a visible
mark), and escaped by the template for its format: HTML by autoescaping, Slack by the
`mrkdwn` filter, Markdown by the `md` filter defined here. Links are only ever built
from http(s) URLs, percent-encoded so nothing in them can end the link early.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from soar.safe_text import escape_mrkdwn, visible

TRUNCATION_MARK = "…(truncated)"
_WHITESPACE = re.compile(r"\s+")
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")
_URL_SAFE = ":/?#[]@!$&'*+,;=%~-._"
"""Characters a URL keeps as written; everything else (spaces, quotes, `<>|()`, `\\`)
is percent-encoded, so the URL cannot end a Markdown or Slack link early."""
_MD_INLINE = re.compile(r"([\\`*_\[\]|~#])")
_MD_LIST_MARK = re.compile(r"^(\s*)([-+=])(?=[\s=-]|$)", re.MULTILINE)
"""A bullet (`- `, `+ `) or a setext underline (`---`, `===`) starting a line."""
_MD_NUMBERED = re.compile(r"^(\s*\d+)([.)])(?=\s|$)", re.MULTILINE)
"""An ordered list item (`1. `, `2) `) starting a line."""
_MD_SCHEME = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*):(?=//)")


def clip(text: str, limit: int, *, cut: bool = False) -> str:
    """`text` cut to `limit` characters, the mark included, when longer. `cut` says the
    text was shortened before, so it gets the mark whatever its length now."""
    if len(text) <= limit and not cut:
        return text
    return text[: max(limit - len(TRUNCATION_MARK), 0)].rstrip() + TRUNCATION_MARK


def clip_escaped(text: str, limit: int) -> str:
    """Like :func:`clip` for text already escaped with entities: never cut inside one."""
    if len(text) <= limit:
        return text
    head = _PARTIAL_ENTITY.sub("", text[: max(limit - len(TRUNCATION_MARK), 0)])
    return head + TRUNCATION_MARK


def _newlines(text: str) -> str:
    """Carriage returns as line breaks (the cleaning below drops control characters)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def line(text: str | None, limit: int) -> str:
    """A one-line value (a title, a name, an observable): visible characters only,
    runs of white space as one space, clipped. An attacker's line break cannot forge a
    line of the report's own."""
    if not text:
        return ""
    head = text[: limit * 4]
    flat = _WHITESPACE.sub(" ", visible(_newlines(head), keep_newlines=True)).strip()
    return clip(flat, limit, cut=len(head) < len(text))


def paragraph(text: str | None, limit: int) -> str:
    """A multi-line value (a description, a note): visible characters and line breaks,
    clipped."""
    if not text:
        return ""
    head = text[: limit * 4]
    kept = visible(_newlines(head), keep_newlines=True).replace("\t", " ").strip()
    return clip(kept, limit, cut=len(head) < len(text))


def safe_url(url: str | None) -> str | None:
    """An http(s) URL fit to link to, percent-encoded; None for anything else (a
    `javascript:` link, no host, a malformed URL)."""
    if not url:
        return None
    cleaned = visible(url.strip(), keep_newlines=False)
    if len(cleaned) > 2000:
        return None
    try:
        parts = urlsplit(cleaned)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return quote(cleaned, safe=_URL_SAFE)


def escape_markdown(text: str) -> str:
    """`text` as literal Markdown: no emphasis, link, image, code, table cell, heading,
    list or raw HTML can start in it (CommonMark backslash escapes and entities)."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = _MD_INLINE.sub(r"\\\1", escaped)
    escaped = _MD_SCHEME.sub(r"\1\\:", escaped)
    escaped = _MD_LIST_MARK.sub(r"\1\\\2", escaped)
    return _MD_NUMBERED.sub(r"\1\\\2", escaped)


def markdown_link(url: str | None, label: str) -> str:
    """A Markdown link to a URL :func:`safe_url` accepts, or the label alone."""
    target = safe_url(url)
    text = escape_markdown(label)
    return f"[{text}]({target})" if target else text


def slack_link(url: str | None, label: str) -> str:
    """A Slack mrkdwn link to a URL :func:`safe_url` accepts, or the escaped label."""
    target = safe_url(url)
    text = escape_mrkdwn(label)
    return f"<{target.replace('&', '&amp;')}|{text}>" if target else text


def utc(at: datetime | None) -> str:
    """A time as reports show it: `2026-01-01 12:00 UTC` (or a dash)."""
    if at is None:
        return "-"
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")

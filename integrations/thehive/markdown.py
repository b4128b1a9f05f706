"""Plain text as Markdown that shows it literally: TheHive renders descriptions and
comments as Markdown, so alert content must not become links, images (a request to
someone's server when an analyst opens the alert), headings or HTML there.

Every ASCII punctuation character is backslash-escaped (CommonMark lets any of them be),
and line breaks are kept as hard breaks.
"""

from __future__ import annotations

import string

_ESCAPED = {ord(char): f"\\{char}" for char in string.punctuation}


def literal(text: str) -> str:
    """`text` as Markdown that renders as exactly `text`."""
    paragraphs = text.split("\n\n")
    return "\n\n".join(
        "  \n".join(line.translate(_ESCAPED) for line in paragraph.split("\n"))
        for paragraph in paragraphs
    )

"""Atlassian Document Format, the JSON Jira Cloud's v3 API takes for descriptions and
comments.

Only text nodes carry words, and Jira never reads markup in them, so alert content in a
description or comment shows exactly as written. ADF refuses an empty text node, so
blank lines become paragraph breaks and empty lines are left out. :func:`words` reads
the text back out of a document, whatever nodes Jira split it into, to tell whether an
issue already has a comment.
"""

from __future__ import annotations

from typing import Any

Node = dict[str, Any]


def document(*blocks: Node) -> Node:
    """A document of these top-level blocks."""
    return {"type": "doc", "version": 1, "content": [b for b in blocks if b]}


def text(value: str, *, href: str | None = None, strong: bool = False) -> Node:
    """One text node (a link when `href` is given)."""
    node: Node = {"type": "text", "text": value}
    marks = ([{"type": "strong"}] if strong else []) + (
        [{"type": "link", "attrs": {"href": href}}] if href else []
    )
    if marks:
        node["marks"] = marks
    return node


def paragraph(*content: Node) -> Node:
    return {"type": "paragraph", "content": [c for c in content if c.get("text", True)]}


def paragraphs(plain: str) -> list[Node]:
    """Plain text as paragraphs: blank lines between them, line breaks kept inside."""
    blocks: list[Node] = []
    for chunk in plain.split("\n\n"):
        lines = [line for line in chunk.split("\n") if line.strip()]
        if not lines:
            continue
        content: list[Node] = []
        for line in lines:
            if content:
                content.append({"type": "hardBreak"})
            content.append(text(line))
        blocks.append({"type": "paragraph", "content": content})
    return blocks


def bullets(items: list[str]) -> Node:
    """A bullet list of plain items (none: no list)."""
    if not items:
        return {}
    return {
        "type": "bulletList",
        "content": [{"type": "listItem", "content": [paragraph(text(item))]} for item in items],
    }


def words(node: Node) -> str:
    """The text of a document or node: its text nodes in order, a line break for each
    hard break, a blank line between blocks."""
    kind = node.get("type")
    if kind == "text":
        return str(node.get("text", ""))
    if kind == "hardBreak":
        return "\n"
    children = [words(child) for child in node.get("content") or [] if isinstance(child, dict)]
    separator = "\n\n" if kind in ("doc", "bulletList", "listItem") else ""
    return separator.join(children)

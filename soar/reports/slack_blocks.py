"""Slack templates' output turned into Block Kit blocks that Slack accepts.

A Slack template (`*.slack.j2`) writes one block per line as JSON, through the macros
of `_slack_kit.j2` (`header`, `section`, `fields`, `context`, `divider`), which encode
every value with `tojson`: a value from an alert cannot end its string, so it cannot
add a block or a key. What the template wrote is then held to Slack's limits here,
whatever it is (an operator's override too): each text clipped with a visible mark and
never inside an entity, at most 50 blocks (the last saying how many were left out),
empty sections dropped, and every block checked by `slack_sdk`'s own models.
"""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

from soar.reports.text import TRUNCATION_MARK, clip_escaped

MESSAGE_BLOCKS = 50
HEADER_TEXT = 150
SECTION_TEXT = 3000
SECTION_FIELDS = 10
FIELD_TEXT = 2000
CONTEXT_ELEMENTS = 10
CONTEXT_TEXT = 2000
KINDS = frozenset({"header", "section", "context", "divider"})

JsonBlock = dict[str, Any]


class SlackTemplateError(ValueError):
    """A Slack template wrote something that is not blocks; the message says what."""


def blocks_from_lines(rendered: str) -> list[JsonBlock]:
    """The blocks a Slack template wrote (one JSON object a line), fitted to Slack."""
    blocks: list[JsonBlock] = []
    for number, text in enumerate(rendered.splitlines(), start=1):
        if not text.strip():
            continue
        try:
            block = json.loads(text)
        except ValueError as error:
            raise SlackTemplateError(f"line {number} is not a JSON block: {error}") from None
        if not isinstance(block, dict) or block.get("type") not in KINDS:
            raise SlackTemplateError(
                f"line {number} is not a header, section, context or divider block"
            )
        fitted = _fitted(block)
        if fitted is not None:
            blocks.append(fitted)
    return [_checked(block) for block in _at_most(blocks, MESSAGE_BLOCKS)]


def _text(value: Any, limit: int) -> Any:
    """A text object with its text clipped to `limit` (left alone when not one)."""
    if isinstance(value, dict) and isinstance(value.get("text"), str):
        return value | {"text": clip_escaped(value["text"], limit)}
    return value


def _fitted(block: JsonBlock) -> JsonBlock | None:
    """`block` within Slack's limits; None for a section with nothing in it."""
    kind = block["type"]
    if kind == "header":
        return block | {"text": _text(block.get("text"), HEADER_TEXT)}
    if kind == "section":
        fitted = dict(block)
        text = block.get("text")
        if isinstance(text, dict) and not str(text.get("text") or "").strip():
            fitted.pop("text")
        elif text is not None:
            fitted["text"] = _text(text, SECTION_TEXT)
        fields = block.get("fields")
        if isinstance(fields, list):
            kept = [_text(field, FIELD_TEXT) for field in fields[:SECTION_FIELDS]]
            fitted["fields"] = [f for f in kept if not isinstance(f, dict) or f.get("text")]
            if not fitted["fields"]:
                fitted.pop("fields")
        return fitted if "text" in fitted or "fields" in fitted else None
    if kind == "context":
        elements = block.get("elements")
        if isinstance(elements, list):
            kept = [_text(element, CONTEXT_TEXT) for element in elements[:CONTEXT_ELEMENTS]]
            return block | {"elements": kept}
    return block


def _at_most(blocks: list[JsonBlock], limit: int) -> list[JsonBlock]:
    """At most `limit` blocks; when there are more, the last says how many were left out."""
    if len(blocks) <= limit:
        return blocks
    left_out = len(blocks) - (limit - 1)
    note = {"type": "mrkdwn", "text": f"{TRUNCATION_MARK} {left_out} more blocks"}
    return [*blocks[: limit - 1], {"type": "context", "elements": [note]}]


def _checked(block: JsonBlock) -> JsonBlock:
    """`block` as `slack_sdk`'s models serialise it, which validates it."""
    try:
        parsed = Block.parse(block)
        if parsed is None:
            raise SlackTemplateError(f"not a block: {json.dumps(block)[:200]}")
        checked: JsonBlock = parsed.to_dict()
    except (SlackObjectFormationError, KeyError, TypeError, AttributeError) as error:
        raise SlackTemplateError(f"a {block['type']} block Slack would refuse: {error}") from None
    return checked

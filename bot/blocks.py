"""Block Kit building blocks that stay within Slack's limits.

`slack_sdk.models` refuses some over-long values when serialising, which would turn a
long alert into a failed post. These helpers clip first (with a visible mark) so the
models never refuse, and check what the models do not: the number of blocks in a
message (50) and in a modal or App Home (100).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.ids import ActionId, block_id
from bot.mrkdwn import TRUNCATION_MARK, clip, escape, oneline

MESSAGE_BLOCKS = 50
SURFACE_BLOCKS = 100
"""Modals and App Home."""
SECTION_TEXT = 3000
SECTION_FIELD = 2000
SECTION_FIELDS = 10
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
CONTEXT_ELEMENTS = 10
CONTEXT_TEXT = 2000
FALLBACK_TEXT = 3000
ACTIONS_ELEMENTS = 25
PRIVATE_METADATA = 3000

JsonBlocks = list[dict[str, Any]]


def header(text: str) -> HeaderBlock:
    """A header from untrusted text (escaped, on one line, at most 150 characters)."""
    return HeaderBlock(text=PlainTextObject(text=oneline(text, HEADER_TEXT), emoji=True))


def section(
    text: str,
    *,
    name: str | None = None,
    revision: str = "",
    accessory: ButtonElement | None = None,
) -> SectionBlock:
    """A section of mrkdwn the caller has already made safe; clipped to 3000. An
    `accessory` button sits on its right."""
    return SectionBlock(
        text=MarkdownTextObject(text=clip(text, SECTION_TEXT)),
        block_id=block_id(name, revision) if name else None,
        accessory=accessory,
    )


def fields(pairs: Sequence[tuple[str, str]]) -> SectionBlock:
    """A two-column section of `*label*\\nvalue` pairs (safe mrkdwn), at most ten."""
    shown = [
        MarkdownTextObject(text=clip(f"*{label}*\n{value}", SECTION_FIELD))
        for label, value in pairs[:SECTION_FIELDS]
    ]
    return SectionBlock(fields=shown)


def context(texts: Sequence[str]) -> ContextBlock:
    """A context line of safe mrkdwn pieces, at most ten."""
    shown = [MarkdownTextObject(text=clip(text, CONTEXT_TEXT)) for text in texts[:CONTEXT_ELEMENTS]]
    return ContextBlock(elements=shown)


def divider() -> DividerBlock:
    return DividerBlock()


def button(
    text: str,
    action_id: str,
    value: str | None = None,
    *,
    style: str | None = None,
    confirm: ConfirmObject | None = None,
    url: str | None = None,
) -> ButtonElement:
    """A button. `value` is a reference the server looks up, never authority; a value
    too long for Slack is a bug in the caller, so it raises instead of being clipped."""
    if value is not None and len(value) > BUTTON_VALUE:
        raise ValueError(f"button value of {len(value)} characters exceeds {BUTTON_VALUE}")
    return ButtonElement(
        text=PlainTextObject(text=clip(escape(text), BUTTON_TEXT), emoji=True),
        action_id=action_id,
        value=value,
        style=style,
        confirm=confirm,
        url=url,
    )


def link_button(text: str, url: str) -> ButtonElement:
    return button(text, ActionId.LINK, url=url)


def actions(name: str, revision: str, elements: Sequence[ButtonElement]) -> ActionsBlock:
    return ActionsBlock(
        block_id=block_id(name, revision), elements=list(elements[:ACTIONS_ELEMENTS])
    )


def confirm(title: str, text: str, yes: str, *, danger: bool = True) -> ConfirmObject:
    """A confirmation dialog; `text` is safe mrkdwn."""
    return ConfirmObject(
        title=PlainTextObject(text=clip(escape(title), 100)),
        text=MarkdownTextObject(text=clip(text, 300)),
        confirm=PlainTextObject(text=clip(escape(yes), 30)),
        deny=PlainTextObject(text="Cancel"),
        style="danger" if danger else "primary",
    )


def fit(blocks: Sequence[Block], limit: int) -> list[Block]:
    """At most `limit` blocks: when there are more, the last one kept says how many were
    left out, so nothing disappears silently."""
    if len(blocks) <= limit:
        return list(blocks)
    left_out = len(blocks) - (limit - 1)
    return [*blocks[: limit - 1], context([f"{TRUNCATION_MARK} {left_out} more blocks"])]


def message_blocks(blocks: Sequence[Block]) -> JsonBlocks:
    """Blocks for `chat.postMessage` / `chat.update`: fitted to 50 and serialised, which
    runs `slack_sdk`'s own validation."""
    return [block.to_dict() for block in fit(blocks, MESSAGE_BLOCKS)]


def fallback(text: str) -> str:
    """The notification text of a message (shown where blocks are not), safe mrkdwn."""
    return clip(text, FALLBACK_TEXT)


def surface(view: View) -> dict[str, Any]:
    """A modal or App Home, fitted to 100 blocks and serialised (validated)."""
    view.blocks = fit(view.blocks or [], SURFACE_BLOCKS)
    if view.private_metadata and len(view.private_metadata) > PRIVATE_METADATA:
        raise ValueError("private_metadata exceeds 3000 characters")
    return view.to_dict()

"""The stable ids of the bot's interactive parts.

Action ids and callback ids are part of the Slack contract: messages posted months ago
still carry them, so they never change. Block ids carry a layout version and a revision
of the content, as Slack asks for a new block id whenever a message is updated.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum

LAYOUT_VERSION = 1
SLASH_COMMAND = "/soar"


class ActionId(StrEnum):
    """Buttons and menus."""

    APPROVE = "approval.approve"
    APPROVE_WITH_REASON = "approval.approve_with_reason"
    DENY = "approval.deny"
    CASE_NOTE = "case.note"
    CASE_ESCALATE = "case.escalate"
    CASE_ACKNOWLEDGE = "case.acknowledge"
    """Take the case on: stops the escalation chain's "not acknowledged" levels."""
    UNDO = "containment.undo"
    """Revert a containment action in force (on its thread reply and in App Home)."""
    LINK = "link.open"
    """Link buttons: Slack still sends a click, which the bot acknowledges and ignores."""


class CallbackId(StrEnum):
    """Modals and the message shortcut."""

    APPROVE_REASON = "approval.approve_reason"
    DENY_REASON = "approval.deny_reason"
    CASE_NOTE = "case.note_modal"
    CASE_ESCALATE = "case.escalate_modal"
    ADD_TO_CASE = "case.add_message"
    ADD_TO_CASE_MODAL = "case.add_message_modal"
    UNDO_REASON = "containment.undo_modal"


class InputId(StrEnum):
    """Input blocks of the modals (block id and action id alike)."""

    REASON = "reason"
    NOTE = "note"
    ESCALATE_TO = "escalate_to"
    CASE = "case"
    CASE_TYPED = "case_typed"


def block_id(name: str, revision: str = "") -> str:
    """`name/v<layout>/<revision>`: stable name, new id for each content revision."""
    digest = hashlib.sha256(revision.encode()).hexdigest()[:12] if revision else "0"
    return f"{name}/v{LAYOUT_VERSION}/{digest}"

"""The answer of the guardrails to one containment command."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class GuardrailDecision(BaseModel):
    """Whether a command may run, and why, in words fit for the case timeline.

    `rule` names the setting that refused it (`never_block`, `gateways`, ...), so a
    timeline or a test can tell the kinds of refusal apart without parsing the reason.
    """

    model_config = ConfigDict(frozen=True)

    allowed: bool
    reason: str
    rule: str | None = None

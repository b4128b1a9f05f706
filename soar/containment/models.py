"""Containment commands, shaped after OpenC2 (action, target, args), and their records.

A playbook says *what* to do — block this address for an hour, isolate this host —
and configuration decides *which* actuator does it. The vocabulary is deliberately
small:

========  ==========================  =====================================  ==========
action    target types                meaning                                revertible
========  ==========================  =====================================  ==========
deny      ``ipv4_net``, ``ipv6_net``  block traffic to and from the network  yes
contain   ``hostname``                isolate the host from the network      yes
disable   ``account``                 stop the account from signing in       yes
revoke    ``account``                 end the account's sessions and tokens  no
========  ==========================  =====================================  ==========

``deny`` and ``contain`` are OpenC2 Language Specification 1.0 actions used as the spec
defines them. OpenC2 has no verb for identity providers, so ``disable`` and ``revoke``
extend the vocabulary in the same shape rather than overloading ``deny`` with two
different account operations that revert differently.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from soar.cases.models import UtcDatetime


class ContainmentVerb(StrEnum):
    """The action of a command (see the module docstring for what each one means)."""

    DENY = "deny"
    CONTAIN = "contain"
    DISABLE = "disable"
    REVOKE = "revoke"

    @property
    def revertible(self) -> bool:
        """Whether an actuator can undo it; revoked sessions cannot be given back."""
        return self is not ContainmentVerb.REVOKE


class TargetType(StrEnum):
    IPV4_NET = "ipv4_net"
    IPV6_NET = "ipv6_net"
    HOSTNAME = "hostname"
    ACCOUNT = "account"


TARGETS_BY_VERB: dict[ContainmentVerb, frozenset[TargetType]] = {
    ContainmentVerb.DENY: frozenset({TargetType.IPV4_NET, TargetType.IPV6_NET}),
    ContainmentVerb.CONTAIN: frozenset({TargetType.HOSTNAME}),
    ContainmentVerb.DISABLE: frozenset({TargetType.ACCOUNT}),
    ContainmentVerb.REVOKE: frozenset({TargetType.ACCOUNT}),
}
"""Which target types each action accepts."""


class ContainmentTarget(BaseModel):
    """What a command acts on: `{type, value}`.

    Network values are an address or a CIDR block (`203.0.113.7`, `203.0.113.0/24`)
    and are checked to parse as the declared family; the value is kept as written.
    """

    model_config = ConfigDict(frozen=True)

    type: TargetType
    value: str = Field(min_length=1)

    @model_validator(mode="after")
    def _check_network(self) -> ContainmentTarget:
        if self.type is TargetType.IPV4_NET:
            ipaddress.IPv4Network(self.value, strict=False)
        elif self.type is TargetType.IPV6_NET:
            ipaddress.IPv6Network(self.value, strict=False)
        return self


class ContainmentArgs(BaseModel):
    """Command arguments. `duration_seconds` bounds the action; `None` means until reverted."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    duration_seconds: int | None = Field(default=None, ge=1)
    reference: str | None = Field(
        default=None,
        max_length=200,
        description="Set by the containment activity, never by a playbook: the case id, "
        "which actuators write on what they create (an nft element comment, a Cloudflare "
        "rule's notes) so a person at the product sees why it is there.",
    )


class ContainmentCommand(BaseModel):
    """An OpenC2-shaped command: do `action` to `target`, with `args`."""

    model_config = ConfigDict(frozen=True)

    action: ContainmentVerb
    target: ContainmentTarget
    args: ContainmentArgs = Field(default_factory=ContainmentArgs)

    @model_validator(mode="after")
    def _check_target_type(self) -> ContainmentCommand:
        allowed = TARGETS_BY_VERB[self.action]
        if self.target.type not in allowed:
            names = ", ".join(sorted(allowed))
            raise ValueError(
                f"{self.action} takes a target of type {names}, not {self.target.type}"
            )
        return self


class ActionState(StrEnum):
    """Where a containment action stands.

    `planned` → `applied` → `verified` → (`reverted`), or one of the outcomes that end
    it without touching anything: `refused` by a guardrail, `dry_run`, `no_actuator`
    configured for it, or `failed`.
    """

    PLANNED = "planned"
    REFUSED = "refused"
    DRY_RUN = "dry_run"
    APPLIED = "applied"
    VERIFIED = "verified"
    FAILED = "failed"
    REVERTED = "reverted"
    NO_ACTUATOR = "no_actuator"


class ActuatorOutcome(BaseModel):
    """What one actuator did with an action: its own state and words."""

    actuator: str
    state: ActionState
    detail: str = ""


class ContainmentAction(BaseModel):
    """The record of one command on one case: which actuators ran it and what happened.

    Every configured actuator that handles the command carries it out; `outcomes` has
    one entry per actuator, and `state` sums them up — in effect when any actuator
    applied it (verified when each of those confirmed it), failed when none could.
    `actuator` names them all, for lists. `id` is deterministic (chosen by the
    playbook), so recording a state twice is harmless. `applied_at` is set only when an
    actuator really changed something (the hourly ceiling counts the slots reserved in
    the store, see `reserve_containment_slot`).
    """

    id: str = Field(min_length=1)
    case_id: str = Field(min_length=1)
    command: ContainmentCommand
    actuator: str | None = None
    outcomes: list[ActuatorOutcome] = Field(default_factory=list)
    state: ActionState = ActionState.PLANNED
    detail: str | None = None
    approval_id: str | None = Field(default=None, description="The approval that allowed it.")
    created_at: UtcDatetime
    applied_at: UtcDatetime | None = None
    reverted_at: UtcDatetime | None = None
    expires_at: UtcDatetime | None = None

    @property
    def in_effect(self) -> bool:
        """Whether the command is in force now (applied, or applied and verified)."""
        return self.state in (ActionState.APPLIED, ActionState.VERIFIED)

    @property
    def carried_out(self) -> bool:
        """Whether the step went through: in effect, or would have been in a dry run."""
        return self.in_effect or self.state is ActionState.DRY_RUN


def block_ip(address: str, ttl: int | None = None) -> ContainmentCommand:
    """Deny all traffic to and from an address or CIDR block, for `ttl` seconds (until
    reverted when None)."""
    kind = TargetType.IPV6_NET if ":" in address else TargetType.IPV4_NET
    return ContainmentCommand(
        action=ContainmentVerb.DENY,
        target=ContainmentTarget(type=kind, value=address),
        args=ContainmentArgs(duration_seconds=ttl),
    )


def isolate(host: str, ttl: int | None = None) -> ContainmentCommand:
    """Cut a host off the network, but for its EDR's own connection."""
    return ContainmentCommand(
        action=ContainmentVerb.CONTAIN,
        target=ContainmentTarget(type=TargetType.HOSTNAME, value=host),
        args=ContainmentArgs(duration_seconds=ttl),
    )


def disable_account(user: str, ttl: int | None = None) -> ContainmentCommand:
    """Disable an account so that it can no longer sign in."""
    return ContainmentCommand(
        action=ContainmentVerb.DISABLE,
        target=ContainmentTarget(type=TargetType.ACCOUNT, value=user),
        args=ContainmentArgs(duration_seconds=ttl),
    )


def revoke_sessions(user: str) -> ContainmentCommand:
    """End an account's sessions and tokens (cannot be undone)."""
    return ContainmentCommand(
        action=ContainmentVerb.REVOKE,
        target=ContainmentTarget(type=TargetType.ACCOUNT, value=user),
    )

"""Building blocks for the containment tests: a policy, an inventory and the activities."""

from __future__ import annotations

from datetime import UTC, datetime

from soar.containment.activities import ContainmentActivities, ContainmentRequest
from soar.containment.actuators import Actuator, ActuatorRegistry
from soar.containment.models import (
    ContainmentArgs,
    ContainmentCommand,
    ContainmentTarget,
    ContainmentVerb,
    TargetType,
)
from soar.enrichment.inventory import Inventory
from soar.enrichment.models import AssetContext
from soar.guardrails.settings import GuardrailSettings

REQUESTED_AT = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

POLICY = GuardrailSettings(
    gateways=["10.0.0.1"],
    resolvers=["10.0.0.53"],
    never_isolate=["backup-01.corp.example", "jump-*"],
    never_disable=["administrator", "root", "breakglass-*"],
    max_containments_per_hour=20,
)
INVENTORY = Inventory(
    hosts=[
        AssetContext(hostname="ad-01.corp.example", tags=["domain-controller"]),
        AssetContext(hostname="fin-laptop-07", owner="j.doe"),
    ]
)


def command(
    action: ContainmentVerb, kind: TargetType, value: str, duration: int | None = None
) -> ContainmentCommand:
    return ContainmentCommand(
        action=action,
        target=ContainmentTarget(type=kind, value=value),
        args=ContainmentArgs(duration_seconds=duration),
    )


def deny(value: str, duration: int | None = None) -> ContainmentCommand:
    kind = TargetType.IPV6_NET if ":" in value else TargetType.IPV4_NET
    return command(ContainmentVerb.DENY, kind, value, duration)


def request(cmd: ContainmentCommand, *, dry_run: bool = False) -> ContainmentRequest:
    return ContainmentRequest(
        action_id="case-1-action-1",
        case_id="case-1",
        command=cmd,
        approval_id="approval-1",
        requested_at=REQUESTED_AT,
        dry_run=dry_run,
    )


def activities(
    *actuators: Actuator, dry_run: bool = False, recent: int = 0
) -> ContainmentActivities:
    async def recent_containments() -> int:
        return recent

    return ContainmentActivities(
        ActuatorRegistry(actuators),
        POLICY,
        INVENTORY,
        dry_run=dry_run,
        recent_containments=recent_containments,
    )

"""Building blocks for the containment tests: a policy, an inventory, an in-memory slot
ledger and the activities."""

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
from soar.store.repository import SlotReservation

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


class InMemorySlots:
    """A slot ledger in which other actions already hold `recent` slots; it grants the
    same way the store does (see tests/containment/test_containment_ceiling.py for the
    store itself)."""

    def __init__(self, recent: int) -> None:
        self.recent = recent
        self.reserved: set[str] = set()

    async def count_containment_slots_since(
        self, since: datetime, *, excluding: str | None = None
    ) -> int:
        return self.recent + len(self.reserved - {excluding})

    async def reserve_containment_slot(
        self, action_id: str, *, at: datetime, since: datetime, ceiling: int
    ) -> SlotReservation:
        held = self.recent + len(self.reserved - {action_id})
        if action_id not in self.reserved and held >= ceiling:
            return SlotReservation(granted=False, held=held)
        self.reserved.add(action_id)
        return SlotReservation(granted=True, held=held)

    async def release_containment_slot(self, action_id: str) -> None:
        self.reserved.discard(action_id)


def activities(
    *actuators: Actuator, dry_run: bool = False, recent: int = 0
) -> ContainmentActivities:
    return ContainmentActivities(
        ActuatorRegistry(actuators),
        POLICY,
        INVENTORY,
        dry_run=dry_run,
        slots=InMemorySlots(recent),
    )

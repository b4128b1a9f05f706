"""A case worth summarising, written through the real store: alerts with their triage
and enrichment verdicts, a timeline with escalation, an acknowledgement, an SLA breach
and a ticket, approvals (one decided, one pending) and containment (one block in
effect, one isolation that failed). Every text can be made hostile at once.

The API, CLI and bot tests of the report seed their cases here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from soar.alerts.models import Observable, ObservableRole, ObservableType, Rule
from soar.approvals.models import ApprovalState, Decision, DecisionKind
from soar.cases.models import CaseState, TimelineKind
from soar.containment.models import ActionState, ActuatorOutcome, isolate
from soar.enrichment.models import ObservableVerdict, TriageSummary, Verdict
from soar.store.repository import Repository
from tests.conftest import unique
from tests.store import factories
from tests.store.factories import at

ATTACKER = "203.0.113.7"
LAPTOP = "fin-laptop-07"
VICTIM = "j.doe"

HOSTILE = (
    "{{ 7*7 }} {% raw %}raw{% endraw %} {# c #} <script>alert(1)</script> &amp; &lt;b&gt; "
    "<!channel> <@U123> <https://evil.example|click here> \u202eevil\u202c\u200b "
    "[x](javascript:alert(1)) *bold* _it_ `code` | cell |\n# heading\n- item\n1. one\n"
)
"""Template syntax, HTML, entities, Slack mentions and links, bidirectional overrides,
Markdown: every one must come out as the text it is."""
HUGE = HOSTILE + "A" * 100_000 + "\n" + HOSTILE
"""Over 100 KB, with the hostile part at both ends."""

INVENTORY_YAML = f"""
hosts:
  {LAPTOP}: {{owner: {VICTIM}, criticality: critical, tags: [finance]}}
users:
  {VICTIM}: {{team: finance, manager: a.smith, vip: true}}
"""


@dataclass(frozen=True)
class SeededCase:
    """The ids of what was written and the figures a summary must show."""

    case_id: str
    alert_ids: list[str]
    title: str
    rule: str
    ticket_key: str
    ticket_url: str


def inventory_file(directory: Path) -> Path:
    """The inventory naming the laptop (critical) and its user (a VIP)."""
    path = directory / "inventory.yaml"
    path.write_text(INVENTORY_YAML, encoding="utf-8")
    return path


async def seed_case(store: Repository, *, hostile: str | None = None) -> SeededCase:
    """Write the case; with `hostile`, every text in it (title, description, rule name,
    observables, notes, reasons, …) is that text."""
    case_id = f"case-{unique()}"
    title = hostile or f"Brute force, then a beacon from {ATTACKER}"
    rule = hostile or "ET SCAN SSH brute force"
    text = hostile or ""
    host = hostile or LAPTOP
    user = hostile or VICTIM
    observables = [
        Observable(type=ObservableType.IP, value=ATTACKER, role=ObservableRole.SOURCE),
        Observable(type=ObservableType.HOSTNAME, value=host, role=ObservableRole.HOST),
        Observable(type=ObservableType.USER, value=user, role=ObservableRole.TARGET),
    ]
    if hostile:
        observables.append(
            Observable(type=ObservableType.DOMAIN, value=hostile, role=ObservableRole.RELATED)
        )
    alerts = [
        factories.alert(
            f"{case_id}-{n}",
            minutes=n,
            title=title if n == 2 else f"{title} ({n})",
            description=text or f"Failed SSH logins from {ATTACKER} against {LAPTOP}, then {n}",
            rule=Rule(name=rule, id="2001219"),
            observables=observables,
            link=f"https://siem.example/alerts/{n}",
        )
        for n in range(3)
    ]
    for alert in alerts:
        await store.upsert_alert(alert)
    verdict = ObservableVerdict(
        observable=observables[0],
        verdict=Verdict.MALICIOUS,
        score=95,
        reasons=[text or "reported 523 times by 97 users"],
        by=["abuseipdb"],
    )
    triage = TriageSummary(
        score=80,
        verdict=Verdict.MALICIOUS,
        reasons=[text or "public source address, bad"],
        observables=[verdict],
    )
    acknowledger = hostile or "bob"
    case = factories.case(
        case_id,
        correlation_key=f"ip:{case_id}",
        title=title,
        state=CaseState.AWAITING_DECISION,
        assignee=hostile or "alice",
        alert_count=3,
        observables=observables,
        escalated=True,
        acknowledged_by=acknowledger,
        acknowledged_at=at(17),
        escalation_policy=hostile or "critical-15m",
        tags=[hostile or "brute-force"],
        updated_at=at(30),
    )
    ticket_key = hostile or "SEC-42"
    ticket_url = "https://example.atlassian.net/browse/SEC-42"
    events = [
        factories.event(
            f"{case_id}-t{n}",
            case_id,
            minutes=n,
            kind=TimelineKind.ALERT_ATTACHED,
            summary=f"Alert {alerts[n].id} attached",
        )
        for n in range(3)
    ] + [
        factories.event(
            f"{case_id}-note",
            case_id,
            minutes=4,
            actor="alice",
            summary=text or "Looking into the laptop",
            reason=hostile,
        ),
        factories.event(
            f"{case_id}-lvl1",
            case_id,
            minutes=15,
            kind=TimelineKind.ESCALATION_LEVEL,
            summary=f"Escalated to oncall ({hostile or 'page:soc-oncall'}): paged",
            data={
                "level": "oncall",
                "index": 0,
                "targets": [hostile or "page:soc-oncall"],
                "outcome": [hostile or "paged"],
            },
        ),
        factories.event(
            f"{case_id}-sla",
            case_id,
            minutes=15,
            kind=TimelineKind.SLA_BREACHED,
            summary="Time to acknowledge ran out",
            data={"sla": "acknowledge", "due": "2025-03-01T12:15:00Z"},
        ),
        factories.event(
            f"{case_id}-ack",
            case_id,
            minutes=17,
            kind=TimelineKind.ACKNOWLEDGED,
            actor=acknowledger,
            summary=f"Acknowledged by {acknowledger}",
            reason=hostile,
        ),
        factories.event(
            f"{case_id}-stop",
            case_id,
            minutes=17,
            kind=TimelineKind.ESCALATION_STOPPED,
            summary=f"Escalation stopped: {hostile or 'acknowledged by bob'}",
        ),
        factories.event(
            f"{case_id}-ticket",
            case_id,
            minutes=18,
            kind=TimelineKind.TICKET_OPENED,
            summary=f"Opened {ticket_key}",
            data={"system": "jira", "vendor": "Jira Cloud", "key": ticket_key, "url": ticket_url},
        ),
    ]
    await store.record_case_changes(
        case, events, [a.id for a in alerts], {a.id: triage for a in alerts}
    )
    decided = factories.approval(
        f"{case_id}-appr-block",
        case_id,
        reason=text or "scanning our edge",
        blast_radius=text or "one external address",
        state=ApprovalState.APPROVED,
        decisions=[
            Decision(
                approval_id=f"{case_id}-appr-block",
                decision=DecisionKind.APPROVE,
                user=hostile or "carol",
                reason=hostile or "clearly hostile",
                at=at(6),
            )
        ],
        settled_by=hostile or "carol",
        settled_at=at(6),
    )
    pending = factories.approval(
        f"{case_id}-appr-isolate",
        case_id,
        playbook="compromised_host",
        action="contain",
        target=host,
        reason=text or "beaconing to a C2",
        blast_radius=text or "one laptop",
        deciders=["group:soc-leads"],
        requested_at=at(20),
        expires_at=at(80),
    )
    await store.upsert_approval(decided)
    await store.upsert_approval(pending)
    block = factories.action(
        f"{case_id}-act-block",
        case_id,
        approval_id=decided.id,
        state=ActionState.VERIFIED,
        outcomes=[ActuatorOutcome(actuator="edge", state=ActionState.VERIFIED, detail=text)],
        actuator="edge",
        applied_at=at(7),
        expires_at=at(67),
        created_at=at(6),
    )
    failed = factories.action(
        f"{case_id}-act-isolate",
        case_id,
        command=isolate(host),
        state=ActionState.FAILED,
        outcomes=[ActuatorOutcome(actuator="crowdstrike", state=ActionState.FAILED)],
        actuator="crowdstrike",
        detail=text or f"no host named {LAPTOP} in CrowdStrike",
        created_at=at(21),
    )
    await store.upsert_action(block)
    await store.upsert_action(failed)
    return SeededCase(
        case_id=case_id,
        alert_ids=[a.id for a in alerts],
        title=title,
        rule=rule,
        ticket_key=ticket_key,
        ticket_url=ticket_url,
    )

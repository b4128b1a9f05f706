"""The SDK's pure parts: triggers, the approval rules, the decorator and discovery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib.metadata import EntryPoint
from typing import Any

import pytest
from pydantic import ValidationError

from soar.alerts.models import Alert, ObservableRole, ObservableType, Severity
from soar.approvals.models import (
    ApprovalRequest,
    ApprovalSettings,
    DecisionKind,
    DecisionRequest,
)
from soar.cases.activities import MatchRequest, PlaybookLaunch, PlaybookSettings
from soar.enrichment.models import Triage
from soar.enrichment.providers import EnricherRegistry
from tests.workflows import sdk_playbooks
from tests.workflows.sdk_support import alert, triaged
from workflows.sdk import PlaybookDefinitionError, Trigger, discover_playbooks, playbook, spec_of
from workflows.sdk.activities import PlaybookActivities
from workflows.sdk.approvals import ApprovalBook

IP, HOST, USER = ObservableType.IP, ObservableType.HOSTNAME, ObservableType.USER
SRC, ROLE_HOST, ACTOR = ObservableRole.SOURCE, ObservableRole.HOST, ObservableRole.ACTOR
NOON = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def decision(user: str, kind: DecisionKind = DecisionKind.APPROVE) -> DecisionRequest:
    return DecisionRequest(approval_id="apr-1", decision=kind, user=user)


def book(quorum: int = 1, requested_by: str = "playbook:x") -> ApprovalBook:
    request = ApprovalRequest(
        id="apr-1",
        case_id="case-1",
        workflow_id="case-1/playbook/x",
        playbook="x",
        action="deny",
        target="45.1.1.1",
        reason="test",
        blast_radius="none",
        deciders=["group:leads"],
        quorum=quorum,
        requested_by=requested_by,
        requested_at=NOON,
        expires_at=NOON + timedelta(hours=1),
    )
    approvals = ApprovalBook()
    approvals.open(request, ["alice", "bob"])
    return approvals


class TestTrigger:
    def test_every_condition_must_hold(self) -> None:
        trigger = Trigger(
            sources=("splunk", "edr-*"),
            rule="*brute*",
            min_severity=Severity.MEDIUM,
            observable_types=frozenset({IP, USER}),
        )
        both = [(IP, "45.1.1.1", SRC), (USER, "j.doe", ACTOR)]
        hit = alert("t1", source="edr-eu", title="SSH Brute force", observables=both)
        assert trigger.matches(hit)
        assert not trigger.matches(alert("t2", source="wazuh", title="brute", observables=both))
        assert not trigger.matches(
            alert("t3", source="splunk", title="brute", severity=Severity.LOW, observables=both)
        )
        assert not trigger.matches(
            alert("t4", source="splunk", title="brute", observables=both[:1])
        )
        assert not trigger.matches(
            alert("t5", source="splunk", title="port scan", observables=both)
        )

    def test_the_rule_matches_the_rule_name_or_the_title_and_may_be_a_regex(self) -> None:
        trigger = Trigger(rule=r"re:sign.?in|log[io]n")
        assert trigger.matches(alert("r1", title="whatever", rule="Failed Sign-In burst"))
        assert trigger.matches(alert("r2", title="Impossible LOGIN location"))
        assert not trigger.matches(alert("r3", title="Port scan", rule="scan"))

    def test_an_invalid_regex_is_refused_at_definition(self) -> None:
        with pytest.raises(ValidationError, match="not a valid regular expression"):
            Trigger(rule="re:(unclosed")

    def test_where_sees_the_alert_and_its_triage_and_is_described(self) -> None:
        def critical_host(alert: Alert, triage: Triage | None) -> bool:
            """a critical host."""
            return triage is not None and any(a.criticality == "critical" for a in triage.assets)

        trigger = Trigger(observable_types=frozenset({HOST}), where=critical_host)
        laptop = alert("w1", observables=[(HOST, "fin-laptop-07", ROLE_HOST)])
        assert trigger.matches(laptop, triaged(laptop))
        assert not trigger.matches(laptop, None)
        assert trigger.describe() == "observables hostname; a critical host"


class TestApprovalRules:
    def test_two_decisions_validated_together_settle_once(self) -> None:
        approvals = book()
        assert approvals.refusal(decision("alice"), NOON) is None
        assert approvals.refusal(decision("bob", DecisionKind.DENY), NOON) is None
        approvals.decide(decision("alice"), NOON)
        assert approvals.refusal(decision("bob", DecisionKind.DENY), NOON) == (
            "already approved by alice at 2026-01-01T12:00:00Z"
        )

    def test_refusals_say_why(self) -> None:
        approvals = book(quorum=2, requested_by="alice")
        assert approvals.refusal(decision("mallory"), NOON) == (
            "mallory is not allowed to decide on this request"
        )
        assert approvals.refusal(decision("alice"), NOON) == (
            "alice requested this action and may not approve it"
        )
        assert approvals.refusal(decision("alice", DecisionKind.DENY), NOON) is None
        late = NOON + timedelta(hours=1)
        assert approvals.refusal(decision("bob"), late) == "expired at 2026-01-01T13:00:00Z"
        approvals.decide(decision("bob"), NOON)
        assert approvals.refusal(decision("bob"), NOON) == (
            "bob already approved this request at 2026-01-01T12:00:00Z; 1 of 2 approvals so far"
        )
        unknown = DecisionRequest(approval_id="apr-2", decision=DecisionKind.APPROVE, user="bob")
        assert "no approval request apr-2" in (approvals.refusal(unknown, NOON) or "")

    def test_a_deny_settles_and_expiry_is_final(self) -> None:
        denied = book(quorum=2)
        _, result = denied.decide(decision("bob", DecisionKind.DENY), NOON)
        assert result.message == "denied by bob"
        assert denied.refusal(decision("alice"), NOON) == (
            "already denied by bob at 2026-01-01T12:00:00Z"
        )
        expired = book()
        expired.expire("apr-1", NOON + timedelta(hours=1))
        assert expired.refusal(decision("alice"), NOON) == "expired at 2026-01-01T13:00:00Z"


class TestDecorator:
    def test_a_bad_name_is_refused(self) -> None:
        with pytest.raises(PlaybookDefinitionError, match="lower-case"):
            playbook(name="Block IP!", trigger=Trigger())

    def test_a_plain_function_is_refused(self) -> None:
        def not_async(ctx: object) -> None: ...

        with pytest.raises(PlaybookDefinitionError, match="async def"):
            playbook(name="sync_one", trigger=Trigger())(not_async)

    def test_two_playbooks_with_one_name_are_refused(self) -> None:
        with pytest.raises(PlaybookDefinitionError, match="defined twice"):
            playbook(name="sdk_gate", trigger=Trigger())(
                sdk_playbooks.SdkClassPlaybook.__playbook__.target
            )

    def test_the_decorated_object_becomes_its_workflow(self) -> None:
        spec = spec_of(sdk_playbooks.SdkClassPlaybook)
        assert spec.workflow is sdk_playbooks.SdkClassPlaybook
        assert spec.workflow_type == "playbook:sdk_class"
        assert spec.description == "A playbook written as a class."
        assert spec.target.__name__ == "SdkClassPlaybook"


class TestDiscovery:
    def test_built_ins_are_discovered(self) -> None:
        specs = {spec.name: spec for spec in discover_playbooks()}
        assert {"malicious_ip", "compromised_host", "suspicious_user"} <= set(specs)
        assert specs["malicious_ip"].source == "built-in (workflows.playbooks.malicious_ip)"

    def test_entry_points_add_modules_and_single_playbooks(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        points = [
            EntryPoint("steps", "tests.workflows.sdk_playbooks", "soar.playbooks"),
            EntryPoint("klass", "tests.workflows.sdk_playbooks:SdkClassPlaybook", "soar.playbooks"),
        ]
        monkeypatch.setattr("workflows.sdk.discovery.entry_points", lambda group: points)
        specs = {spec.name: spec for spec in discover_playbooks()}
        assert specs["sdk_steps"].source == "entry point steps = tests.workflows.sdk_playbooks"
        assert specs["sdk_class"].source.startswith("entry point steps")
        assert "malicious_ip" in specs

    def test_a_broken_entry_point_stops_discovery(self, monkeypatch: pytest.MonkeyPatch) -> None:
        broken = [EntryPoint("gone", "no_such_module_here:thing", "soar.playbooks")]
        monkeypatch.setattr("workflows.sdk.discovery.entry_points", lambda group: broken)
        with pytest.raises(PlaybookDefinitionError, match="gone = no_such_module_here:thing"):
            discover_playbooks()


async def test_match_playbooks_names_the_built_ins_an_alert_triggers() -> None:
    activities = PlaybookActivities(
        discover_playbooks(), approvals=ApprovalSettings(), enrichers=EnricherRegistry()
    )

    async def matched(**fields: Any) -> list[str]:
        item = alert("m", **fields)
        request = MatchRequest(alert=item, triage=triaged(item))
        return [launch.name for launch in await activities.match_playbooks(request)]

    public, private = (IP, "45.10.20.30", SRC), (IP, "10.1.2.3", SRC)
    brute = {"title": "SSH brute force", "severity": Severity.MEDIUM}
    assert await matched(**brute, observables=[public]) == ["malicious_ip"]
    assert await matched(**brute, observables=[private]) == []
    assert await matched(title="SSH brute force", severity=Severity.LOW, observables=[public]) == []
    assert await matched(severity=Severity.MEDIUM, observables=[public]) == []
    assert await matched(observables=[(HOST, "ws-12", ROLE_HOST)]) == []
    assert await matched(title="Malware detected", observables=[(HOST, "ws-12", ROLE_HOST)]) == [
        "compromised_host"
    ]
    signin = [(USER, "j.doe", ACTOR)]
    assert await matched(
        severity=Severity.LOW, title="Impossible travel sign-in", observables=signin
    ) == ["suspicious_user"]
    assert (
        await matched(severity=Severity.LOW, title="Failed sign-in burst", observables=signin) == []
    )
    assert await matched(severity=Severity.LOW, title="Mailbox rule", observables=signin) == []
    assert await matched(severity=Severity.HIGH, title="Mailbox rule", observables=signin) == [
        "suspicious_user"
    ]


async def test_configured_playbooks_are_switched_off_or_run_dry_with_their_options() -> None:
    configured = {
        "malicious_ip": PlaybookSettings(dry_run=True, options={"block_seconds": 60}),
        "compromised_host": PlaybookSettings(enabled=False),
    }
    activities = PlaybookActivities(
        discover_playbooks(),
        approvals=ApprovalSettings(),
        enrichers=EnricherRegistry(),
        configured=configured,
    )
    both = alert(
        "c",
        title="C2 beacon",
        severity=Severity.HIGH,
        observables=[(IP, "45.10.20.30", SRC), (HOST, "ws-12", ROLE_HOST)],
    )
    launches = await activities.match_playbooks(MatchRequest(alert=both, triage=triaged(both)))
    assert launches == [
        PlaybookLaunch(name="malicious_ip", dry_run=True, options={"block_seconds": 60})
    ]

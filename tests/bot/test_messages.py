"""The renderers: hostile alert content renders as plain text in every field, and every
message, modal and App Home stays within Block Kit's limits, however large the input."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.ids import ActionId
from bot.links import Links
from bot.messages import approval_message, case_message, escalation_message, timeline_reply
from bot.mrkdwn import TRUNCATION_MARK, escape, link
from bot.people import People
from bot.settings import SlackSettings
from bot.views import add_to_case_modal, decision_modal, home_view, metadata
from soar.alerts.models import Alert, Observable, ObservableRole, ObservableType, Rule, Severity
from soar.alerts.models import SeverityInfo as Level
from soar.approvals.models import ApprovalState, Decision, DecisionKind
from soar.cases.models import TimelineEvent, TimelineKind
from soar.containment.models import (
    ActionState,
    ContainmentAction,
    ContainmentCommand,
    ContainmentTarget,
    ContainmentVerb,
    TargetType,
)
from soar.enrichment.models import AssetContext, Enrichment, IdentityContext, Triage, Verdict
from soar.notifications.models import CaseContext
from soar.store.views import CaseSummary

from .support import ALICE, BOB, approval, buttons, case, texts

HOSTILE = (
    "<!channel> <!here> <@U123> <#C999> <!subteam^S1> <https://evil.example|Approve here> "
    "{{ 7*7 }} {% if true %}x{% endif %} ${jndi:ldap://x} & &amp; *bold* `tick` "
    "\n:white_check_mark: Approved by <@UADMIN>\u202e\u200b"
)
PEOPLE = People(SlackSettings(users={ALICE: "alice", BOB: "bob"}))
LINKS = Links(api_base="https://soar.test", web_ui="http://temporal.test:8233", namespace="default")
OURS = re.compile(
    r"^<(!date\^\d+\^[^|<>]*\|[^<>]*"
    r"|@(UALICE01|UBOB0001)"
    r"|(https://soar\.test|http://temporal\.test:8233|https://siem\.example)/[^|<>]*\|[^<>]*)>$"
)
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def assert_inert(blocks: list[dict[str, Any]], text: str = "") -> None:
    """No markup came from the hostile strings: every `<…>` is one the bot wrote."""
    shown = texts(blocks) + "\n" + text
    for token in re.findall(r"<[^<>]*>", shown):
        assert OURS.match(token), f"unexpected markup {token!r}"
    for forbidden in ("<!channel>", "<!here>", "<@U123>", "<https://evil", "\u202e"):
        assert forbidden not in shown
    assert "{{ 7*7 }}" in shown or TRUNCATION_MARK in shown


def assert_within_limits(blocks: list[dict[str, Any]], max_blocks: int = 50) -> None:
    assert len(blocks) <= max_blocks
    for block in blocks:
        assert len(block.get("block_id", "")) <= 255
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "section":
            assert len(block.get("text", {}).get("text", "")) <= 3000
            assert len(block.get("fields", [])) <= 10
            assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))
        if block["type"] == "context":
            assert len(block["elements"]) <= 10
        if block["type"] == "actions":
            for element in block["elements"]:
                assert len(element["text"]["text"]) <= 75
                assert len(element.get("value", "")) <= 2000
                assert len(element["action_id"]) <= 255


def hostile_case_parts() -> tuple[Any, CaseContext]:
    observables = [
        Observable(type=ObservableType.HOSTNAME, value=HOSTILE, role=ObservableRole.HOST),
        Observable(type=ObservableType.USER, value=HOSTILE, role=ObservableRole.ACTOR),
    ]
    alert = Alert(
        id="a1",
        dedup_key="k",
        source=HOSTILE,
        title=HOSTILE,
        rule=Rule(name=HOSTILE),
        severity=Level(level=Severity.CRITICAL),
        time=NOW,
        link="https://siem.example/search?q=<b>&x=|evil",
        observables=observables,
    )
    triage = Triage(
        alert_id="a1",
        score=90,
        verdict=Verdict.MALICIOUS,
        reasons=[HOSTILE, HOSTILE],
        assets=[AssetContext(hostname=HOSTILE, owner=HOSTILE, tags=[HOSTILE])],
        identities=[IdentityContext(user=HOSTILE, team=HOSTILE, vip=True)],
        enrichments=[
            Enrichment(
                provider="threat-intel",
                observable=observables[0],
                verdict=Verdict.MALICIOUS,
                score=95,
                reasons=[f"listed as a C2 server {HOSTILE}"],
            ),
            Enrichment(provider=HOSTILE, observable=observables[1], verdict=Verdict.BENIGN),
            Enrichment(provider="quiet", observable=observables[1]),
        ],
    )
    hostile = case(
        title=HOSTILE,
        assignee=HOSTILE,
        severity=Severity.CRITICAL,
        observables=observables,
        escalated=True,
    )
    return hostile, CaseContext.of(alert, triage)


def test_escape_turns_markup_into_text() -> None:
    assert escape("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "data:text/html,x", "ftp://x.example/", "https://", "<https://x>"],
)
def test_links_accept_http_only(url: str) -> None:
    assert link(url, "SIEM") is None


def test_link_cannot_break_out_of_its_label() -> None:
    made = link("https://siem.example/a?b=1&c=<2>|evil label", "SIEM")
    assert made == "<https://siem.example/a?b=1&amp;c=%3C2%3E%7Cevil%20label|SIEM>"


def test_case_message_escapes_every_field() -> None:
    hostile, context = hostile_case_parts()
    rendered = case_message(hostile, context, LINKS, PEOPLE)
    assert_inert(rendered.blocks, rendered.text)
    assert_within_limits(rendered.blocks)
    assert "&lt;!channel&gt;" in texts(rendered.blocks)
    assert "<https://siem.example/search?q=%3Cb%3E&amp;x=%7Cevil|SIEM>" in texts(rendered.blocks)


def test_case_message_shows_what_the_analyst_needs() -> None:
    hostile, context = hostile_case_parts()
    rendered = case_message(hostile.model_copy(update={"alert_count": 37}), context, LINKS, PEOPLE)
    shown = texts(rendered.blocks)
    assert "37 alerts" in shown
    assert "malicious (90/100)" in shown
    assert "• threat-intel on `" in shown and ": malicious (95/100) — listed as a C2" in shown
    assert ": benign (0/100)" in shown and "quiet" not in shown
    assert "Escalated" in shown
    assert "<http://temporal.test:8233/namespaces/default/workflows/case-" in shown
    assert f"<https://soar.test/api/cases/{hostile.id}|API>" in shown
    assert "*Acknowledged*\nnot yet" in shown
    ids = [b["action_id"] for b in buttons(rendered.blocks)]
    assert ids == [ActionId.CASE_ACKNOWLEDGE, ActionId.CASE_NOTE, ActionId.CASE_ESCALATE]
    assert all(b["value"] == hostile.id for b in buttons(rendered.blocks))
    taken = hostile.model_copy(update={"acknowledged_by": "alice"})
    shown_taken = case_message(taken, context, LINKS, PEOPLE)
    assert [b["action_id"] for b in buttons(shown_taken.blocks)] == [
        ActionId.CASE_NOTE,
        ActionId.CASE_ESCALATE,
    ]


def test_approval_message_escapes_every_field() -> None:
    request = approval(
        action=HOSTILE,
        target=HOSTILE,
        reason=HOSTILE,
        blast_radius=HOSTILE,
        requested_by=HOSTILE,
        deciders=[HOSTILE, "group:" + HOSTILE, "alice"],
        decisions=[
            Decision(
                approval_id="a", decision=DecisionKind.APPROVE, user="alice", reason=HOSTILE, at=NOW
            )
        ],
        quorum=2,
    )
    rendered = approval_message(request, LINKS, PEOPLE)
    assert_inert(rendered.blocks, rendered.text)
    assert_within_limits(rendered.blocks)


def test_pending_approval_has_buttons_with_a_reference_and_a_confirmation() -> None:
    request = approval(
        quorum=2,
        decisions=[Decision(approval_id="a", decision=DecisionKind.APPROVE, user="alice", at=NOW)],
    )
    rendered = approval_message(request, LINKS, PEOPLE)
    shown = texts(rendered.blocks)
    assert "1 of 2 approvals" in shown
    assert f"<!date^{int(request.expires_at.timestamp())}^" in shown
    assert "<@UALICE01>, <@UBOB0001>" in shown
    approve, with_reason, deny = buttons(rendered.blocks)
    assert [b["action_id"] for b in (approve, with_reason, deny)] == [
        ActionId.APPROVE,
        ActionId.APPROVE_WITH_REASON,
        ActionId.DENY,
    ]
    assert approve["value"] == with_reason["value"] == deny["value"] == request.id
    assert approve["confirm"]["title"]["text"] == "Approve this action?"
    actions = next(b for b in rendered.blocks if b["type"] == "actions")
    assert actions["block_id"].startswith("approval.actions/v1/")


def test_harmless_actions_need_no_confirmation() -> None:
    approve, *_ = buttons(approval_message(approval(action="notify"), LINKS, PEOPLE).blocks)
    assert "confirm" not in approve


def test_block_ids_change_with_each_revision() -> None:
    pending = approval(quorum=2)
    one = pending.model_copy(
        update={
            "decisions": [
                Decision(approval_id="a", decision=DecisionKind.APPROVE, user="alice", at=NOW)
            ]
        }
    )
    ids = [
        next(b for b in approval_message(a, LINKS, PEOPLE).blocks if b["type"] == "actions")[
            "block_id"
        ]
        for a in (pending, one)
    ]
    assert ids[0] != ids[1]


def test_settled_approval_has_no_buttons_and_names_the_decider() -> None:
    request = approval(
        state=ApprovalState.APPROVED,
        settled_by="alice",
        settled_at=NOW,
        decisions=[Decision(approval_id="a", decision=DecisionKind.APPROVE, user="alice", at=NOW)],
    )
    rendered = approval_message(request, LINKS, PEOPLE)
    assert buttons(rendered.blocks) == []
    assert f"Approved by <@UALICE01> at <!date^{int(NOW.timestamp())}^" in texts(rendered.blocks)


def test_expired_and_denied_approvals_say_so() -> None:
    expired = approval(state=ApprovalState.EXPIRED, settled_by="system", settled_at=NOW)
    assert "without a decision" in texts(approval_message(expired, LINKS, PEOPLE).blocks)
    denied = approval(
        state=ApprovalState.DENIED,
        settled_by="bob",
        settled_at=NOW,
        decisions=[
            Decision(
                approval_id="a",
                decision=DecisionKind.DENY,
                user="bob",
                reason="false alarm",
                at=NOW,
            )
        ],
    )
    shown = texts(approval_message(denied, LINKS, PEOPLE).blocks)
    assert "Denied by <@UBOB0001>" in shown and "false alarm" in shown


def test_huge_inputs_stay_within_block_kit_limits() -> None:
    giant = "x" * 50_000
    many = [
        Observable(type=ObservableType.IP, value=f"10.0.{i // 256}.{i % 256}{giant}")
        for i in range(300)
    ]
    huge_case = case(title=giant, observables=many, assignee=giant)
    context = CaseContext(
        source=giant,
        rule=giant,
        verdict=Verdict.SUSPICIOUS,
        score=50,
        reasons=[giant] * 5,
        assets=[AssetContext(hostname=giant, owner=giant, tags=[giant] * 50)] * 5,
        identities=[IdentityContext(user=giant, team=giant)] * 5,
    )
    rendered = case_message(huge_case, context, LINKS, PEOPLE)
    assert_within_limits(rendered.blocks)
    assert TRUNCATION_MARK in texts(rendered.blocks)
    assert len(rendered.text) <= 3000

    request = approval(action=giant, target=giant, reason=giant, blast_radius=giant)
    assert_within_limits(approval_message(request, LINKS, PEOPLE).blocks)

    events = [
        TimelineEvent(
            id=f"e{i}", case_id="c", at=NOW, kind=TimelineKind.NOTE, actor=giant, summary=giant
        )
        for i in range(200)
    ]
    reply = timeline_reply(events, PEOPLE)
    assert reply is not None
    assert_within_limits(reply.blocks)
    assert "more entries" in texts(reply.blocks)


def test_timeline_reply_leaves_alert_attachments_to_the_counter() -> None:
    attached = TimelineEvent(
        id="e1", case_id="c", at=NOW, kind=TimelineKind.ALERT_ATTACHED, actor="system", summary="x"
    )
    assert timeline_reply([attached], PEOPLE) is None
    note = attached.model_copy(
        update={"id": "e2", "kind": TimelineKind.NOTE, "actor": "alice", "summary": HOSTILE}
    )
    reply = timeline_reply([attached, note], PEOPLE)
    assert reply is not None
    assert len(reply.blocks) == 1
    assert_inert(reply.blocks, reply.text)
    assert "<@UALICE01>" in texts(reply.blocks)


def test_a_ticket_entry_links_to_its_ticket_and_only_over_http() -> None:
    opened = TimelineEvent(
        id="e1",
        case_id="c",
        at=NOW,
        kind=TimelineKind.TICKET_OPENED,
        actor="system",
        summary="Ticket SEC-7 in jira",
        data={"key": "SEC-7", "url": "https://acme.atlassian.net/browse/SEC-7"},
    )
    reply = timeline_reply([opened], PEOPLE)
    assert reply is not None
    assert "<https://acme.atlassian.net/browse/SEC-7|Open SEC-7>" in texts(reply.blocks)
    forged = opened.model_copy(update={"data": {"key": "<!channel>", "url": "javascript:x"}})
    reply = timeline_reply([forged], PEOPLE)
    assert reply is not None and "javascript" not in texts(reply.blocks)


def test_escalation_notice_escapes_the_reason() -> None:
    hostile, _ = hostile_case_parts()
    rendered = escalation_message(
        hostile, hostile.id, "alice", HOSTILE, BOB, PEOPLE, LINKS, permalink=None
    )
    assert_inert(rendered.blocks, rendered.text)
    assert "Escalated to <@UBOB0001>* by <@UALICE01>" in texts(rendered.blocks)


def test_modals_and_home_stay_within_limits_and_escape() -> None:
    request = approval(reason=HOSTILE, target=HOSTILE)
    deny = decision_modal(
        request, DecisionKind.DENY, metadata(approval_id=request.id, channel="C1", ts="1.2")
    )
    assert len(deny["blocks"]) <= 100
    assert_inert(deny["blocks"])
    summaries = [
        CaseSummary(
            id=f"case-{i}",
            correlation_key="k",
            title=HOSTILE,
            state="triaged",
            severity=Severity.CRITICAL,
            alert_count=i,
            escalated=False,
            created_at=NOW,
            updated_at=NOW,
        )
        for i in range(300)
    ]
    modal = add_to_case_modal(summaries, HOSTILE * 100, metadata(channel="C1"))
    assert len(modal["blocks"]) <= 100
    select = next(b for b in modal["blocks"] if b.get("block_id") == "case")
    assert len(select["element"]["options"]) == 100
    action = ContainmentAction(
        id="x",
        case_id="c",
        command=ContainmentCommand(
            action=ContainmentVerb.DENY,
            target=ContainmentTarget(type=TargetType.IPV4_NET, value="45.83.64.1"),
        ),
        state=ActionState.APPLIED,
        created_at=NOW,
        expires_at=NOW + timedelta(hours=1),
    )
    home = home_view(
        pending=[request] * 200,
        mine=summaries,
        critical=summaries,
        containments=[action] * 200,
        people=PEOPLE,
        links=LINKS,
    )
    assert home["type"] == "home"
    assert len(home["blocks"]) <= 100
    assert_inert(home["blocks"])
    assert f"until <!date^{int((NOW + timedelta(hours=1)).timestamp())}^" in json.dumps(home)

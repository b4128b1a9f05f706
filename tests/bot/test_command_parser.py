"""`/soar` command lines: each verb parses, and malformed lines say how to write them."""

from __future__ import annotations

import pytest

from bot.command_parser import UsageError, Verb, parse, parse_duration
from soar.alerts.models import Severity
from soar.cases.models import Resolution


def test_empty_line_is_help() -> None:
    assert parse("").verb is Verb.HELP
    assert parse("help").verb is Verb.HELP


def test_each_verb_parses() -> None:
    assert parse("case case-1").case_id == "case-1"
    assert parse("cases mine").scope == "mine"
    assert parse("cases").scope == "open"
    assert parse("approvals").verb is Verb.APPROVALS
    assigned = parse("assign case-1 <@UBOB0001|bob>")
    assert (assigned.case_id, assigned.user) == ("case-1", "UBOB0001")
    assert parse("severity case-1 CRITICAL").severity is Severity.CRITICAL
    note = parse("note case-1 saw it   on the proxy <@U1> too")
    assert (note.case_id, note.text) == ("case-1", "saw it   on the proxy <@U1> too")
    assert parse("escalate case-1 CEO laptop").text == "CEO laptop"
    leveled = parse("escalate case-1 --to management CEO laptop")
    assert (leveled.level, leveled.text) == ("management", "CEO laptop")
    assert parse("ack case-1").verb is Verb.ACK
    ticket = parse("ticket case-1 jira")
    assert (ticket.verb, ticket.case_id, ticket.system) == (Verb.TICKET, "case-1", "jira")
    closed = parse("close case-1 fp scanner of the red team")
    assert closed.resolution is Resolution.FALSE_POSITIVE
    assert closed.text == "scanner of the red team"
    blocked = parse("block-ip 45.83.64.1 2h")
    assert (blocked.target, blocked.ttl_seconds) == ("45.83.64.1", 7200)
    assert parse("block-ip 45.83.64.0/24").ttl_seconds is None
    assert parse("isolate ws-12.corp.example").target == "ws-12.corp.example"


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("frobnicate", "unknown command 'frobnicate'"),
        ("case", "give one case id"),
        ("case a b", "give one case id"),
        ("cases later", "unknown scope"),
        ("assign case-1 bob", "not a @mention"),
        ("severity case-1 spicy", "unknown severity"),
        ("note case-1", "give a case id and the note"),
        ("close case-1 maybe", "unknown resolution"),
        ("block-ip 10.0.0.1", "not a public address"),
        ("block-ip not-an-ip", "not an IP address"),
        ("block-ip 45.83.64.1 forever", "not a duration"),
        ("block-ip 45.83.64.1 90d", "between 1 second and 30 days"),
        ("isolate bad;host", "give one host name"),
        ("approvals now", "takes no arguments"),
        ("ack", "give one case id"),
        ("ack case-1 case-2", "give one case id"),
        ("ticket case-1", "give a case id and a ticket system"),
        ("escalate case-1 --to", "give a level after --to"),
        ("escalate case-1 --to leads", "give a level after --to"),
        ("merge case-1", "give the case to merge and the case it goes into"),
    ],
)
def test_malformed_lines_explain_themselves(line: str, says: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse(line)
    assert says in str(raised.value)
    if not line.startswith("frobnicate"):
        assert "Usage: `/soar" in str(raised.value)


def test_durations() -> None:
    assert [parse_duration(d) for d in ("3600", "90s", "30m", "1d")] == [3600, 90, 1800, 86400]


def test_merge_takes_two_cases_and_an_optional_reason() -> None:
    bare = parse("merge case-1 case-2")
    why = parse("merge case-1 case-2 the same scanner, twice")
    assert (bare.verb, bare.case_id, bare.into, bare.text) == (Verb.MERGE, "case-1", "case-2", None)
    assert (why.into, why.text) == ("case-2", "the same scanner, twice")

"""Parsing `/soar` command lines into typed commands, with helpful errors.

Pure: no Slack, no Temporal. What can be contained (a public address, a host name, a
TTL) is checked by the containment service's own rules, which the API applies too.
Slack sends user mentions in command text as
`<@U123|name>` (the manifest asks it to escape them), which is how `assign` learns a
Slack user id rather than a display name anyone could type.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from soar.alerts.models import Severity
from soar.cases.models import Resolution
from soar.containment import service
from soar.containment.service import ContainmentAsk
from soar.reports.kinds import ReportKind

USER_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
BARE_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
RESOLUTIONS = {
    "tp": Resolution.TRUE_POSITIVE,
    "true-positive": Resolution.TRUE_POSITIVE,
    "true_positive": Resolution.TRUE_POSITIVE,
    "fp": Resolution.FALSE_POSITIVE,
    "false-positive": Resolution.FALSE_POSITIVE,
    "false_positive": Resolution.FALSE_POSITIVE,
    "benign": Resolution.BENIGN,
}

USAGE = {
    "help": "`/soar help` — this list",
    "case": "`/soar case ID` — a case with its triage and links",
    "cases": "`/soar cases [open|mine|all]` — recent cases (open by default)",
    "report": "`/soar report ID [escalation|tactical|executive]` — a case's summary "
    "(the escalation summary by default)",
    "approvals": "`/soar approvals` — pending approval requests",
    "assign": "`/soar assign ID @user` — assign a case",
    "severity": "`/soar severity ID LEVEL` — informational, low, medium, high or critical",
    "note": "`/soar note ID TEXT` — add a note to a case",
    "ack": "`/soar ack ID` — take a case on: its escalation stops climbing",
    "escalate": "`/soar escalate ID [--to LEVEL] REASON` — escalate a case (to a level of its "
    "policy, by name or number; else the next)",
    "ticket": "`/soar ticket ID SYSTEM` — open the case's ticket in a configured ticket system",
    "close": "`/soar close ID RESOLUTION [TEXT]` — true-positive (tp), false-positive (fp) "
    "or benign",
    "merge": "`/soar merge ID INTO [REASON]` — merge case ID into the open case INTO: its "
    "alerts, timeline and open approvals move there, and ID closes",
    "block-ip": "`/soar block-ip IP [TTL]` — ask to block an address (TTL like 3600, 30m, 2h, "
    "1d; an hour by default); it needs approval",
    "isolate": "`/soar isolate HOST` — ask to isolate a host; it needs approval",
}


class Verb(StrEnum):
    HELP = "help"
    CASE = "case"
    CASES = "cases"
    REPORT = "report"
    APPROVALS = "approvals"
    ASSIGN = "assign"
    SEVERITY = "severity"
    NOTE = "note"
    ACK = "ack"
    ESCALATE = "escalate"
    TICKET = "ticket"
    CLOSE = "close"
    MERGE = "merge"
    BLOCK_IP = "block-ip"
    ISOLATE = "isolate"


class UsageError(ValueError):
    """A command line that cannot be run; the message says how to write it."""


@dataclass(frozen=True)
class SoarCommand:
    """One parsed `/soar` command; only the fields its verb uses are set."""

    verb: Verb
    case_id: str | None = None
    text: str | None = None
    user: str | None = None
    severity: Severity | None = None
    resolution: Resolution | None = None
    target: str | None = None
    ttl_seconds: int | None = None
    scope: str = "open"
    report: ReportKind = ReportKind.ESCALATION
    level: str | None = None
    system: str | None = None
    into: str | None = None


Parser = Callable[[str], SoarCommand]


def parse(line: str) -> SoarCommand:
    """The command in `line`, or :class:`UsageError` saying what is wrong and how to
    write it."""
    words = line.strip().split(maxsplit=1)
    if not words:
        return SoarCommand(Verb.HELP)
    name, rest = words[0].lower(), (words[1] if len(words) > 1 else "").strip()
    try:
        verb = Verb(name)
    except ValueError:
        raise UsageError(f"unknown command {name!r}") from None
    try:
        return _PARSERS[verb](rest)
    except UsageError as error:
        raise UsageError(f"{error}\nUsage: {USAGE[verb.value]}") from None


def _split(rest: str, count: int) -> list[str]:
    """The first `count` words of `rest` and, when there is more, the remainder."""
    return rest.split(maxsplit=count)


def _no_arguments(verb: Verb) -> Parser:
    def parse_it(rest: str) -> SoarCommand:
        if rest:
            raise UsageError(f"{verb.value} takes no arguments")
        return SoarCommand(verb)

    return parse_it


def _case(rest: str) -> SoarCommand:
    words = _split(rest, 1)
    if len(words) != 1:
        raise UsageError("give one case id")
    return SoarCommand(Verb.CASE, case_id=words[0])


def _cases(rest: str) -> SoarCommand:
    scope = rest.lower() or "open"
    if scope not in ("open", "mine", "all"):
        raise UsageError(f"unknown scope {rest!r}")
    return SoarCommand(Verb.CASES, scope=scope)


def _report(rest: str) -> SoarCommand:
    words = _split(rest, 2)
    if not 1 <= len(words) <= 2:
        raise UsageError("give a case id and, optionally, a kind of report")
    if len(words) == 1:
        return SoarCommand(Verb.REPORT, case_id=words[0])
    try:
        kind = ReportKind(words[1].lower())
    except ValueError:
        kinds = ", ".join(kind.value for kind in ReportKind)
        raise UsageError(f"unknown kind of report {words[1]!r}: {kinds}") from None
    return SoarCommand(Verb.REPORT, case_id=words[0], report=kind)


def _assign(rest: str) -> SoarCommand:
    words = _split(rest, 2)
    if len(words) != 2:
        raise UsageError("give a case id and a @mention")
    mention = USER_MENTION.match(words[1])
    user = mention.group(1) if mention else words[1]
    if not BARE_USER_ID.match(user):
        raise UsageError(f"{words[1]!r} is not a @mention of a Slack user")
    return SoarCommand(Verb.ASSIGN, case_id=words[0], user=user)


def _severity(rest: str) -> SoarCommand:
    words = _split(rest, 2)
    if len(words) != 2:
        raise UsageError("give a case id and a level")
    try:
        level = Severity(words[1].lower())
    except ValueError:
        raise UsageError(f"unknown severity {words[1]!r}") from None
    return SoarCommand(Verb.SEVERITY, case_id=words[0], severity=level)


def _case_and_text(verb: Verb, what: str) -> Parser:
    def parse_it(rest: str) -> SoarCommand:
        words = _split(rest, 1)
        if len(words) != 2:
            raise UsageError(f"give a case id and {what}")
        return SoarCommand(verb, case_id=words[0], text=words[1])

    return parse_it


def _escalate(rest: str) -> SoarCommand:
    words = _split(rest, 1)
    if len(words) != 2:
        raise UsageError("give a case id and a reason")
    case_id, reason = words
    level = None
    if reason.startswith("--to"):
        parts = reason.split(maxsplit=2)
        if len(parts) < 3 or parts[0] != "--to":
            raise UsageError("give a level after --to, then a reason")
        level, reason = parts[1], parts[2]
    return SoarCommand(Verb.ESCALATE, case_id=case_id, text=reason, level=level)


def _ticket(rest: str) -> SoarCommand:
    words = _split(rest, 2)
    if len(words) != 2:
        raise UsageError("give a case id and a ticket system")
    return SoarCommand(Verb.TICKET, case_id=words[0], system=words[1])


def _one_case(verb: Verb) -> Parser:
    def parse_it(rest: str) -> SoarCommand:
        words = _split(rest, 1)
        if len(words) != 1:
            raise UsageError("give one case id")
        return SoarCommand(verb, case_id=words[0])

    return parse_it


def _close(rest: str) -> SoarCommand:
    words = _split(rest, 2)
    if len(words) < 2:
        raise UsageError("give a case id and a resolution")
    resolution = RESOLUTIONS.get(words[1].lower())
    if resolution is None:
        raise UsageError(f"unknown resolution {words[1]!r}")
    text = words[2] if len(words) > 2 else None
    return SoarCommand(Verb.CLOSE, case_id=words[0], resolution=resolution, text=text)


def _merge(rest: str) -> SoarCommand:
    words = _split(rest, 2)
    if len(words) < 2:
        raise UsageError("give the case to merge and the case it goes into")
    reason = words[2] if len(words) > 2 else None
    return SoarCommand(Verb.MERGE, case_id=words[0], into=words[1], text=reason)


def _block_ip(rest: str) -> SoarCommand:
    words = _split(rest, 2)
    if not 1 <= len(words) <= 2:
        raise UsageError("give an address and, optionally, a TTL")
    try:
        service.check_target(ContainmentAsk.BLOCK_IP, words[0])
    except ValueError as error:
        raise UsageError(str(error)) from None
    ttl = parse_duration(words[1]) if len(words) > 1 else None
    return SoarCommand(Verb.BLOCK_IP, target=words[0], ttl_seconds=ttl)


def parse_duration(text: str) -> int:
    """Seconds in `3600`, `90s`, `30m`, `2h` or `1d` (at most 30 days)."""
    try:
        return service.parse_duration(text)
    except ValueError as error:
        raise UsageError(str(error)) from None


def _isolate(rest: str) -> SoarCommand:
    words = _split(rest, 1)
    if len(words) != 1:
        raise UsageError("give one host name")
    try:
        service.check_target(ContainmentAsk.ISOLATE, words[0])
    except ValueError:
        raise UsageError("give one host name") from None
    return SoarCommand(Verb.ISOLATE, target=words[0])


_PARSERS: dict[Verb, Parser] = {
    Verb.HELP: _no_arguments(Verb.HELP),
    Verb.CASE: _case,
    Verb.CASES: _cases,
    Verb.REPORT: _report,
    Verb.APPROVALS: _no_arguments(Verb.APPROVALS),
    Verb.ASSIGN: _assign,
    Verb.SEVERITY: _severity,
    Verb.NOTE: _case_and_text(Verb.NOTE, "the note"),
    Verb.ACK: _one_case(Verb.ACK),
    Verb.ESCALATE: _escalate,
    Verb.TICKET: _ticket,
    Verb.CLOSE: _close,
    Verb.MERGE: _merge,
    Verb.BLOCK_IP: _block_ip,
    Verb.ISOLATE: _isolate,
}

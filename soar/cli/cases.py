"""`soar cases list|show|note|assign|ack|escalate|ticket|close|merge|split`, and the values
ignored for similarity (`ignore-observable`, `unignore-observable`, `ignored-observables`):
cases through the running operator API, like any other client, so a refusal reads as the
API and Slack word it.

Almost every string shown here comes, in the end, from whoever can send an alert, so
nothing from the API is ever parsed as Rich markup: values go into tables as `Text`.
The small rendering helpers are shared with `soar approvals`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, NoReturn
from urllib.parse import quote

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from soar.alerts.models import Severity
from soar.cases.models import CaseState, Resolution
from soar.cli.operator_client import ApiError, OperatorClient
from soar.cli.output import print_error
from soar.enrichment.models import Verdict
from soar.settings import load_settings

app = typer.Typer(help="List and show cases.", no_args_is_help=True)

ApiUrl = Annotated[str | None, typer.Option(help="Base URL of the API (default from config).")]


def cell(value: object) -> Text:
    """A table cell showing `value` literally; a dim dash when there is nothing."""
    if value is None or value == "":
        return Text("-", style="dim")
    return Text(str(value))


VERDICT_STYLE = {
    Verdict.MALICIOUS: "bold red",
    Verdict.SUSPICIOUS: "yellow",
    Verdict.BENIGN: "green",
    Verdict.UNKNOWN: "dim",
}


def verdict_text(verdict: Verdict | None) -> Text:
    """A verdict, coloured by how alarming it is."""
    if verdict is None:
        return cell(None)
    return Text(verdict.value, style=VERDICT_STYLE[verdict])


def when(value: str | None) -> Text:
    """An API timestamp (ISO 8601, UTC) as `YYYY-MM-DD HH:MM:SS`."""
    if not value:
        return cell(None)
    try:
        return Text(datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M:%S"))
    except ValueError:
        return cell(value)


def fail(error: ApiError) -> NoReturn:
    """Print the API's answer (it may quote untrusted input, so literally) and exit 1."""
    print_error(str(error))
    raise typer.Exit(1)


def fetch(path: str, url: str | None, **params: Any) -> Any:
    """GET an operator API path, or fail the command with the API's message."""
    try:
        return OperatorClient(load_settings(), url).get(path, **params)
    except ApiError as error:
        fail(error)


def path_part(value: str) -> str:
    """An id made safe to put in a URL path."""
    return quote(value, safe="")


@app.command("list")
def list_cases(
    state: Annotated[CaseState | None, typer.Option(help="Only cases in this state.")] = None,
    severity: Annotated[Severity | None, typer.Option(help="Only this severity.")] = None,
    assignee: Annotated[str | None, typer.Option(help="Only cases assigned to this user.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    url: ApiUrl = None,
) -> None:
    """Cases, most recently updated first."""
    cases = fetch(
        "/api/cases",
        url,
        state=state.value if state else None,
        severity=severity.value if severity else None,
        assignee=assignee,
        limit=limit,
    )
    table = Table("id", "state", "severity", "alerts", "assignee", "key", "title", "updated")
    for case in cases:
        table.add_row(
            cell(case["id"]),
            cell(case["state"]),
            cell(case["severity"]),
            cell(case["alert_count"]),
            cell(case.get("assignee")),
            cell(case["correlation_key"]),
            cell(case["title"]),
            when(case["updated_at"]),
        )
    Console().print(table)


def _header(case: dict[str, Any]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    state = case["state"] + (f" ({case['resolution']})" if case.get("resolution") else "")
    if case.get("merged_into"):
        state += f", merged into {case['merged_into']}"
    rows: list[tuple[str, Text]] = [
        ("Case", cell(case["id"])),
        ("Title", cell(case["title"])),
        ("State", cell(state)),
        ("Severity", cell(case["severity"])),
        ("Assignee", cell(case.get("assignee"))),
        ("Correlation key", cell(case["correlation_key"])),
        ("Alerts", cell(case["alert_count"])),
        ("Escalated", cell("yes" if case.get("escalated") else "no")),
        ("Tags", cell(", ".join(case.get("tags", [])))),
        ("Created", when(case["created_at"])),
        ("Updated", when(case["updated_at"])),
    ]
    for label, value in rows:
        grid.add_row(label, value)
    return grid


def _alerts(case: dict[str, Any]) -> Table:
    shown = len(case["alerts"])
    title = f"Alerts ({shown} most recent of {case['alert_count']})"
    table = Table("time", "severity", "source", "status", "title", "id", title=title)
    for alert in case["alerts"]:
        table.add_row(
            when(alert["time"]),
            cell(alert["severity"]),
            cell(alert["source"]),
            cell(alert["status"]),
            cell(alert["title"]),
            cell(alert["id"]),
        )
    return table


def _observables(case: dict[str, Any]) -> Table:
    table = Table("type", "value", "role", title="Observables")
    for observable in case["observables"]:
        table.add_row(
            cell(observable["type"]), cell(observable["value"]), cell(observable.get("role"))
        )
    return table


def _enrichment(case: dict[str, Any]) -> Table:
    """Each observable's combined verdict across sources, and the sources that were
    skipped or failed."""
    table = Table(
        "observable", "verdict", "score", "according to", "why", "not asked", title="Enrichment"
    )
    for verdict in case["enrichment"]:
        observable = verdict["observable"]
        missing = [
            f"{source['provider']}: {source['status']} ({source.get('reason') or '?'})"
            for source in verdict.get("sources", [])
            if source["status"] != "answered"
        ]
        table.add_row(
            cell(f"{observable['type']} {observable['value']}"),
            verdict_text(Verdict(verdict["verdict"])),
            cell(verdict["score"]),
            cell(", ".join(verdict.get("by", []))),
            cell("\n".join(verdict.get("reasons", [])[:4])),
            cell("\n".join(missing)),
        )
    return table


def _timeline(case: dict[str, Any]) -> Table:
    table = Table("time", "kind", "actor", "summary", "reason", title="Timeline")
    for event in case["timeline"]:
        table.add_row(
            when(event["at"]),
            cell(event["kind"]),
            cell(event["actor"]),
            cell(event["summary"]),
            cell(event.get("reason")),
        )
    return table


def decisions_cell(approval: dict[str, Any]) -> Text:
    """Who decided what on a request, one decision per line, with the reasons."""
    lines = [
        f"{d['user']}: {d['decision']}" + (f" ({d['reason']})" if d.get("reason") else "")
        for d in approval["decisions"]
    ]
    return cell("\n".join(lines))


def _approvals(case: dict[str, Any]) -> Table:
    table = Table(
        "id", "state", "action", "target", "quorum", "decisions", "expires", title="Approvals"
    )
    for approval in case["approvals"]:
        table.add_row(
            cell(approval["id"]),
            cell(approval["state"]),
            cell(approval["action"]),
            cell(approval["target"]),
            cell(approval["quorum"]),
            decisions_cell(approval),
            when(approval["expires_at"]),
        )
    return table


def _tickets(case: dict[str, Any]) -> Table:
    """The case's tickets and where to open them."""
    table = Table("system", "vendor", "key", "link", title="Tickets")
    for ticket in case["tickets"]:
        table.add_row(
            cell(ticket["system"]),
            cell(ticket.get("vendor")),
            cell(ticket["key"]),
            cell(ticket.get("url")),
        )
    return table


def _similar(case: dict[str, Any]) -> Table:
    """Other open cases sharing an observable with this one, and which they share."""
    table = Table("case", "state", "severity", "shared", "matched", "title", title="Similar cases")
    for similar in case["similar"]:
        matched = [f"{m['type']} {m['value']}" for m in similar["matched"]]
        if similar["shared"] > len(matched):
            matched.append(f"… {similar['shared'] - len(matched)} more")
        table.add_row(
            cell(similar["id"]),
            cell(similar["state"]),
            cell(similar["severity"]),
            cell(similar["shared"]),
            cell("\n".join(matched)),
            cell(similar["title"]),
        )
    return table


def _actions(case: dict[str, Any]) -> Table:
    table = Table(
        "id",
        "action",
        "target",
        "actuator",
        "state",
        "detail",
        "applied",
        "reverted",
        title="Containment actions",
    )
    for action in case["actions"]:
        command = action["command"]
        table.add_row(
            cell(action["id"]),
            cell(command["action"]),
            cell(f"{command['target']['type']} {command['target']['value']}"),
            cell(action.get("actuator")),
            cell(action["state"]),
            cell(action.get("detail")),
            when(action.get("applied_at")),
            when(action.get("reverted_at")),
        )
    return table


@app.command("show")
def show(case_id: str, url: ApiUrl = None) -> None:
    """A case: its header, alerts, observables, their enrichment, timeline, approvals,
    actions, and the other open cases sharing an observable with it."""
    case = fetch(f"/api/cases/{path_part(case_id)}", url)
    console = Console()
    console.print(_header(case))
    sections = [
        ("alerts", _alerts),
        ("observables", _observables),
        ("enrichment", _enrichment),
        ("timeline", _timeline),
        ("approvals", _approvals),
        ("actions", _actions),
        ("tickets", _tickets),
    ]
    for key, render in sections:
        console.print()
        if case.get(key):
            console.print(render(case))
        else:
            console.print(Text(f"No {key}.", style="dim"))
    console.print()
    if case.get("similar"):
        console.print(_similar(case))
    else:
        console.print(Text("No similar open cases.", style="dim"))


Actor = Annotated[str, typer.Option("--as", help="Who asks; recorded on the case's timeline.")]


def _send(case_id: str, body: dict[str, Any], url: str | None) -> None:
    """POST a command to the case; a refusal prints the service's reason and exits 1."""
    try:
        sent = OperatorClient(load_settings(), url).post(
            f"/api/cases/{path_part(case_id)}/commands", body
        )
    except ApiError as error:
        fail(error)
    where = "its timeline" if sent["workflow_id"] is None else "its workflow"
    Console().print(
        Text.assemble((f"{body['kind']}: ", "green"), f"sent to case {sent['case_id']} ({where}).")
    )


@app.command("note")
def note(case_id: str, text: str, actor: Actor, url: ApiUrl = None) -> None:
    """Add a note to a case's timeline (a case that has ended still takes notes)."""
    _send(case_id, {"kind": "note", "actor": actor, "text": text}, url)


@app.command("assign")
def assign(case_id: str, assignee: str, actor: Actor, url: ApiUrl = None) -> None:
    """Assign an open case to ASSIGNEE."""
    _send(case_id, {"kind": "assign", "actor": actor, "assignee": assignee}, url)


@app.command("escalate")
def escalate(
    case_id: str,
    actor: Actor,
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="The level of the case's escalation policy (name or number), else the next.",
        ),
    ] = None,
    reason: Annotated[str | None, typer.Option(help="Why it needs more eyes.")] = None,
    url: ApiUrl = None,
) -> None:
    """Escalate an open case: the level named (or the next one) fires now."""
    body: dict[str, Any] = {"kind": "escalate", "actor": actor, "text": reason}
    if to:
        body["to"] = to
    _send(case_id, body, url)


@app.command("ack")
def acknowledge(case_id: str, actor: Actor, url: ApiUrl = None) -> None:
    """Take a case on: its escalation stops climbing (pages are acknowledged)."""
    _send(case_id, {"kind": "acknowledge", "actor": actor}, url)


@app.command("ticket")
def ticket(case_id: str, system: str, actor: Actor, url: ApiUrl = None) -> None:
    """Open the case's ticket in SYSTEM (a `[tickets]` name); a second ask finds it."""
    _send(case_id, {"kind": "ticket", "actor": actor, "system": system}, url)


@app.command("close")
def close(
    case_id: str,
    resolution: Annotated[Resolution, typer.Option(help="The verdict on the case.")],
    actor: Actor,
    reason: Annotated[str | None, typer.Option(help="Why; recorded with the closure.")] = None,
    url: ApiUrl = None,
) -> None:
    """Close an open case with its resolution."""
    _send(case_id, {"kind": "close", "actor": actor, "resolution": resolution, "text": reason}, url)


@app.command("merge")
def merge(
    case_id: str,
    into: str,
    actor: Actor,
    reason: Annotated[str | None, typer.Option(help="Why they are one case (recorded).")] = None,
    url: ApiUrl = None,
) -> None:
    """Merge CASE_ID into the open case INTO: its alerts, timeline and open approvals end
    up there, and CASE_ID closes pointing there. Asking again says where it went."""
    body = {"into": into, "actor": actor, "reason": reason}
    try:
        sent = OperatorClient(load_settings(), url).post(
            f"/api/cases/{path_part(case_id)}/merge", body
        )
    except ApiError as error:
        fail(error)
    done = "was merged into" if sent["already_merged"] else "is being merged into"
    Console().print(
        Text.assemble(("merge: ", "green"), f"case {sent['case_id']} {done} {sent['merged_into']}.")
    )


@app.command("split")
def split(
    case_id: str,
    alert_ids: Annotated[list[str], typer.Argument(help="The alerts that leave the case.")],
    actor: Actor,
    reason: Annotated[str | None, typer.Option(help="Why they are another case.")] = None,
    url: ApiUrl = None,
) -> None:
    """Move ALERT_IDS out of CASE_ID into a new case of their own (at least one alert
    stays). Asking again names the new case."""
    body = {"alert_ids": alert_ids, "actor": actor, "reason": reason}
    try:
        sent = OperatorClient(load_settings(), url).post(
            f"/api/cases/{path_part(case_id)}/split", body
        )
    except ApiError as error:
        fail(error)
    count = len(sent["alert_ids"])
    where = (
        f"case {sent['split_into']}"
        if sent.get("split_into")
        else f"a new case (workflow {sent['workflow_id']})"
    )
    done = "were split" if sent.get("split_into") else "are being split"
    Console().print(
        Text.assemble(
            ("split: ", "green"), f"{count} alert(s) of {sent['case_id']} {done} into {where}."
        )
    )


@app.command("ignore-observable")
def ignore_observable(
    value: str,
    actor: Actor,
    reason: Annotated[str | None, typer.Option(help="Why it says nothing (recorded).")] = None,
    url: ApiUrl = None,
) -> None:
    """Mark VALUE "ignore for similarity" (your own domain, a shared proxy): cases that
    share it are not shown as similar, whatever its type."""
    body = {"value": value, "actor": actor, "reason": reason}
    try:
        mark = OperatorClient(load_settings(), url).post("/api/similarity/ignored", body)
    except ApiError as error:
        fail(error)
    Console().print(
        Text.assemble(
            ("ignored for similarity: ", "green"), mark["value"], f" (by {mark['added_by']})"
        )
    )


@app.command("unignore-observable")
def unignore_observable(value: str, url: ApiUrl = None) -> None:
    """Take the "ignore for similarity" mark off VALUE."""
    try:
        OperatorClient(load_settings(), url).delete("/api/similarity/ignored", value=value)
    except ApiError as error:
        fail(error)
    Console().print(Text.assemble(("no longer ignored for similarity: ", "green"), value))


@app.command("ignored-observables")
def ignored_observables(url: ApiUrl = None) -> None:
    """The values ignored for similarity: configured, then marked (by whom, why)."""
    marks = fetch("/api/similarity/ignored", url)
    table = Table("value", "from", "by", "reason", "since", title="Ignored for similarity")
    for mark in marks:
        table.add_row(
            cell(mark["value"]),
            cell("configuration" if mark["configured"] else "marked"),
            cell(mark.get("added_by")),
            cell(mark.get("reason")),
            when(mark.get("added_at")),
        )
    Console().print(table)

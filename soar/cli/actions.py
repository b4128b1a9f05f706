"""`soar actions list [--active]` and `soar actions revert ID --as USER --reason TEXT`:
containment actions through the running operator API, like any other client, so a
refusal reads as the API and Slack word it.

A revert goes through Temporal (the action's expiry workflow, or a revert workflow of
its own) and is recorded on the case's timeline under the name given with `--as`.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from soar.cli.cases import Actor, ApiUrl, cell, fail, fetch, path_part, when
from soar.cli.operator_client import ApiError, OperatorClient
from soar.settings import load_settings

app = typer.Typer(help="List containment actions and revert them.", no_args_is_help=True)


def target_of(action: dict[str, Any]) -> str:
    """`deny ipv4_net 203.0.113.7`: what the action does, to what."""
    command = action["command"]
    return f"{command['action']} {command['target']['type']} {command['target']['value']}"


@app.command("list")
def list_actions(
    active: Annotated[
        bool, typer.Option("--active", help="Only actions in force (applied, not reverted).")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 100,
    url: ApiUrl = None,
) -> None:
    """Containment actions of every case: newest first, or (--active) those in force,
    soonest expiry first."""
    actions = fetch("/api/actions", url, active=str(active).lower(), limit=limit)
    table = Table("id", "case", "command", "actuator", "state", "applied", "expires", "reverted")
    for action in actions:
        table.add_row(
            cell(action["id"]),
            cell(action["case_id"]),
            cell(target_of(action)),
            cell(action.get("actuator")),
            cell(action["state"]),
            when(action.get("applied_at")),
            when(action.get("expires_at")) if action.get("expires_at") else cell("never"),
            when(action.get("reverted_at")),
        )
    Console().print(table)


@app.command("revert")
def revert(
    action_id: str,
    actor: Actor,
    reason: Annotated[str, typer.Option(help="Why; recorded on the case's timeline.")],
    url: ApiUrl = None,
) -> None:
    """Revert an action now (its expiry, if any, is cancelled). Exit 1 when it is refused
    or an actuator could not undo it."""
    try:
        answer = OperatorClient(load_settings(), url).post(
            f"/api/actions/{path_part(action_id)}/revert", {"user": actor, "reason": reason}
        )
    except ApiError as error:
        fail(error)
    what = target_of(answer["action"])
    if not answer["reverted"]:
        Console(stderr=True).print(
            Text.assemble(("not reverted: ", "red"), f"{what}: {answer.get('detail') or ''}")
        )
        raise typer.Exit(1)
    Console().print(
        Text.assemble(
            ("reverted: ", "green"),
            f"{what} (action {answer['action_id']}, by workflow {answer['workflow_id']}).",
        )
    )

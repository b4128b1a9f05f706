"""`soar approvals list`, `soar approve ID --as USER`, `soar deny ID --as USER`.

Decisions go through the operator API's decision endpoint, hence through the same
`decide` Workflow Update as every other client: the workflow, not the CLI, decides who
may decide. A refusal (HTTP 409) prints the workflow's reason and exits 1.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from soar.approvals.models import ApprovalState, DecisionKind
from soar.cli.cases import ApiUrl, cell, decisions_cell, fail, fetch, path_part, when
from soar.cli.operator_client import ApiError, OperatorClient
from soar.settings import load_settings

app = typer.Typer(help="List approval requests.", no_args_is_help=True)

User = Annotated[
    str, typer.Option("--as", help="Who decides: a user id the approval's deciders name.")
]
Reason = Annotated[str | None, typer.Option(help="Why; recorded on the case's timeline.")]


@app.command("list")
def list_approvals(
    state: Annotated[
        str,
        typer.Option(help=f"One of {', '.join(ApprovalState)}, or all."),
    ] = ApprovalState.PENDING.value,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 100,
    url: ApiUrl = None,
) -> None:
    """Approval requests, oldest first; pending ones unless --state says otherwise."""
    approvals = fetch("/api/approvals", url, state=state, limit=limit)
    table = Table(
        "id",
        "state",
        "case",
        "action",
        "target",
        "approvals",
        "deciders",
        "decisions",
        "requested",
        "expires",
    )
    for approval in approvals:
        approved = sum(d["decision"] == DecisionKind.APPROVE for d in approval["decisions"])
        table.add_row(
            cell(approval["id"]),
            cell(approval["state"]),
            cell(approval["case_id"]),
            cell(approval["action"]),
            cell(approval["target"]),
            cell(f"{approved}/{approval['quorum']}"),
            cell(", ".join(approval["deciders"])),
            decisions_cell(approval),
            Text.assemble(when(approval["requested_at"]), " by ", approval["requested_by"]),
            when(approval["expires_at"]),
        )
    Console().print(table)


def _decide(
    approval_id: str, decision: DecisionKind, user: str, reason: str | None, url: str | None
) -> None:
    body = {"decision": decision.value, "user": user, "reason": reason}
    try:
        result = OperatorClient(load_settings(), url).post(
            f"/api/approvals/{path_part(approval_id)}/decision", body
        )
    except ApiError as error:
        fail(error)
    approvals = f"{result['approvals']}/{result['quorum']} approvals"
    Console().print(
        Text.assemble(
            (f"{decision.value}: ", "green"),
            f"{result['approval_id']} is {result['state']} ({approvals}). ",
            result["message"],
        )
    )


def approve(approval_id: str, user: User, reason: Reason = None, url: ApiUrl = None) -> None:
    """Approve a pending request as USER; refused (exit 1) when USER may not decide it."""
    _decide(approval_id, DecisionKind.APPROVE, user, reason, url)


def deny(approval_id: str, user: User, reason: Reason = None, url: ApiUrl = None) -> None:
    """Deny a pending request as USER; refused (exit 1) when USER may not decide it."""
    _decide(approval_id, DecisionKind.DENY, user, reason, url)

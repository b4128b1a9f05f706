"""`soar contain block-ip IP [--ttl 1h]`, `soar contain isolate HOST`,
`soar contain disable-account USER`: ask for containment through the running operator
API. Each starts the same playbook, with its guardrails and its approval, as `/soar
block-ip` in Slack does — the request never acts by itself, and the person asking
(`--as`, the login name by default) may not approve it. Prints the case and the
approval request to decide (`soar approve ID --as …`).
"""

from __future__ import annotations

import getpass
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from soar.cli.cases import ApiUrl, fail
from soar.cli.operator_client import ApiError, OperatorClient
from soar.containment.service import ContainmentAsk, parse_duration
from soar.settings import load_settings

app = typer.Typer(
    help="Ask for containment: it runs the playbook and needs its approval.",
    no_args_is_help=True,
)


def _seconds(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return parse_duration(text)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


Requester = Annotated[
    str | None,
    typer.Option("--as", help="Who asks (may not approve it); your login name by default."),
]
Reason = Annotated[str | None, typer.Option(help="Why; shown to the deciders.")]
DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Run the playbook without calling any actuator.")
]


def _ask(
    ask: ContainmentAsk,
    target: str,
    requester: str | None,
    reason: str | None,
    dry_run: bool,
    url: str | None,
    ttl_seconds: int | None = None,
) -> None:
    body: dict[str, Any] = {
        "ask": ask.value,
        "target": target,
        "requested_by": requester or getpass.getuser(),
        "ttl_seconds": ttl_seconds,
        "dry_run": dry_run,
        "reason": reason,
    }
    try:
        started = OperatorClient(load_settings(), url).post("/api/containment", body)
    except ApiError as error:
        fail(error)
    console = Console()
    console.print(
        Text.assemble(
            ("asked: ", "green"),
            f"{ask.value} {target}: playbook {started['playbook']} is running "
            f"({started['workflow_id']}).",
        )
    )
    console.print(Text(f"case:     {started['case_id']}"))
    if started["approval_id"]:
        console.print(Text(f"approval: {started['approval_id']} ({started.get('detail') or ''})"))
        console.print(Text("Another decider approves it: soar approve ID --as USER."))
        return
    console.print(Text(f"approval: none ({started.get('detail') or ''})"))
    if started["ended"]:
        raise typer.Exit(1)


@app.command("block-ip")
def block_ip(
    address: Annotated[str, typer.Argument(help="A public IP address or network.")],
    ttl: Annotated[
        str | None,
        typer.Option(help="How long it stays blocked: 3600, 30m, 2h, 1d (playbook default)."),
    ] = None,
    dry_run: DryRun = False,
    reason: Reason = None,
    requester: Requester = None,
    url: ApiUrl = None,
) -> None:
    """Ask to block an address for a while (the malicious_ip playbook)."""
    _ask(ContainmentAsk.BLOCK_IP, address, requester, reason, dry_run, url, _seconds(ttl))


@app.command("isolate")
def isolate(
    host: Annotated[str, typer.Argument(help="The host name.")],
    dry_run: DryRun = False,
    reason: Reason = None,
    requester: Requester = None,
    url: ApiUrl = None,
) -> None:
    """Ask to isolate a host from the network (the compromised_host playbook)."""
    _ask(ContainmentAsk.ISOLATE, host, requester, reason, dry_run, url)


@app.command("disable-account")
def disable_account(
    user: Annotated[str, typer.Argument(help="The account name.")],
    dry_run: DryRun = False,
    reason: Reason = None,
    requester: Requester = None,
    url: ApiUrl = None,
) -> None:
    """Ask to disable an account and end its sessions (the suspicious_user playbook)."""
    _ask(ContainmentAsk.DISABLE_ACCOUNT, user, requester, reason, dry_run, url)

"""`soar spool [status]` and `soar spool retry`: the spool on this machine's data directory.

The spool is a local SQLite file shared with the running API, so these commands work on
it directly, whether or not the API is running.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from soar.cli.output import console
from soar.ingest.spool import Spool
from soar.settings import load_settings

app = typer.Typer(help="Alerts waiting for Temporal and alerts Temporal refused (parked).")


def _open() -> Spool:
    return Spool(load_settings().spool_path)


@app.callback(invoke_without_command=True)
def spool(context: typer.Context) -> None:
    """Without a subcommand: the same as `soar spool status`."""
    if context.invoked_subcommand is None:
        status()


@app.command("status")
def status(
    limit: Annotated[int, typer.Option(help="How many parked alerts to show.")] = 10,
) -> None:
    """Spool depth, parked count, and the most recently parked alerts with their errors."""
    spool = _open()
    try:
        depth, parked = spool.refresh_depth(), spool.count_parked()
        latest = asyncio.run(spool.parked(limit))
    finally:
        spool.close()
    console().print(f"spool {escape(str(spool.path))}")
    console().print(f"waiting for Temporal: {depth}")
    console().print(f"parked (refused by Temporal): {parked}")
    if not latest:
        return
    table = Table("alert", "parked at", "attempts", "error", title="latest parked alerts")
    for entry in latest:
        table.add_row(
            escape(entry.alert.id),
            f"{entry.parked_at:%Y-%m-%d %H:%M:%S}Z",
            str(entry.attempts),
            escape(entry.error),
        )
    console().print(table)
    console().print("Fix the cause, then run `soar spool retry`.")


@app.command("retry")
def retry() -> None:
    """Move every parked alert back to the spool, in order, for the forwarder to try again."""
    spool = _open()
    try:
        moved = asyncio.run(spool.retry_parked())
    finally:
        spool.close()
    if moved == 0:
        console().print("No parked alerts.")
        return
    console().print(
        f"Moved {moved} parked alert(s) back to the spool; the running API's forwarder "
        "starts their workflows (or parks them again if Temporal still refuses them)."
    )

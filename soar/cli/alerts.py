"""`soar alerts send|list|show`: through the running API, like any other client."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from soar.cli.operator_client import ApiError, OperatorClient
from soar.cli.output import console, print_error
from soar.settings import load_settings

app = typer.Typer(help="Send, list and show alerts.", no_args_is_help=True)

ApiUrl = Annotated[str | None, typer.Option(help="Base URL of the API (default from config).")]


def _fail(error: ApiError) -> None:
    print_error(str(error))
    raise typer.Exit(1)


@app.command("send")
def send(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    source: Annotated[str, typer.Option(help="Webhook source name, e.g. splunk.")],
    url: ApiUrl = None,
) -> None:
    """POST a payload file to /webhooks/SOURCE (NDJSON when the file ends in .ndjson)."""
    content_type = (
        "application/x-ndjson" if file.suffix in {".ndjson", ".jsonl"} else "application/json"
    )
    try:
        answer = OperatorClient(load_settings(), url).send_webhook(
            source, file.read_bytes(), content_type
        )
    except ApiError as error:
        _fail(error)
        return
    console().print_json(json.dumps(answer))


@app.command("list")
def list_alerts(
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    severity: Annotated[str | None, typer.Option(help="Only this severity.")] = None,
    limit: int = 50,
    url: ApiUrl = None,
) -> None:
    """Recorded alerts, newest first."""
    try:
        alerts = OperatorClient(load_settings(), url).get(
            "/api/alerts", source=source, severity=severity, limit=limit
        )
    except ApiError as error:
        _fail(error)
        return
    table = Table("id", "time", "severity", "source", "status", "title")
    for alert in alerts:
        table.add_row(
            alert["id"],
            alert["time"],
            alert["severity"]["level"],
            alert["source"],
            alert["status"],
            alert["title"],
        )
    console().print(table)


@app.command("show")
def show(alert_id: str, url: ApiUrl = None) -> None:
    """One alert as JSON, the way the operator API returns it."""
    try:
        alert = OperatorClient(load_settings(), url).get(f"/api/alerts/{alert_id}")
    except ApiError as error:
        _fail(error)
        return
    console().print_json(json.dumps(alert))

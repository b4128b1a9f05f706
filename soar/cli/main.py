"""`soar`: run the product and operate it from a terminal."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from bot.settings import SlackSettingsError, slack_mode, slack_settings
from soar.cli import (
    actions,
    alerts,
    approvals,
    cases,
    contain,
    doctor,
    enrich,
    integrations,
    playbooks,
    report,
    sources,
    spool,
)
from soar.cli.first_run import webhook_urls, write_initial_config
from soar.cli.output import console, print_error
from soar.integrations.errors import IntegrationConfigError
from soar.runtime import stack
from soar.runtime.integrations import check_integrations
from soar.settings import (
    Settings,
    TemporalSettings,
    config_path,
    load_settings,
    setting_problems,
)
from workflows.sdk.discovery import check_playbook_options, discover_playbooks
from workflows.sdk.spec import PlaybookOptionsError

app = typer.Typer(
    help="Open-source SOAR: SIEM webhooks to durable Temporal workflows.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(alerts.app, name="alerts")
app.add_typer(cases.app, name="cases")
app.add_typer(approvals.app, name="approvals")
app.add_typer(actions.app, name="actions")
app.add_typer(contain.app, name="contain")
app.add_typer(integrations.app, name="integrations")
app.add_typer(playbooks.app, name="playbooks")
app.add_typer(spool.app, name="spool")
app.add_typer(report.app, name="report")
app.command("escalate")(cases.escalate)
app.command("approve")(approvals.approve)
app.command("deny")(approvals.deny)
app.command("sources")(sources.show_sources)
app.command("doctor")(doctor.doctor)
app.command("enrich")(enrich.enrich)


TemporalAddress = Annotated[
    str | None,
    typer.Option(help="Use this Temporal cluster (host:port); no embedded server is started."),
]
Namespace = Annotated[str | None, typer.Option(help="Temporal namespace.")]
TlsCert = Annotated[Path | None, typer.Option(help="mTLS client certificate (PEM).")]
TlsKey = Annotated[Path | None, typer.Option(help="mTLS client private key (PEM).")]
ApiKey = Annotated[
    str | None, typer.Option(help="Temporal Cloud API key.", envvar="TEMPORAL_API_KEY")
]


def _check_configuration(settings: Settings) -> None:
    """Stop with the bad setting named when the `[slack]` table, a playbook's options or
    a configured integration do not fit, before anything starts."""
    try:
        slack_settings(settings)
        check_playbook_options(discover_playbooks(), settings.playbooks)
        check_integrations(settings)
    except (SlackSettingsError, PlaybookOptionsError, IntegrationConfigError) as error:
        print_error(str(error))
        raise typer.Exit(2) from None


def _settings(
    address: str | None,
    namespace: str | None,
    tls_cert: Path | None,
    tls_key: Path | None,
    api_key: str | None,
) -> Settings:
    try:
        settings = load_settings()
    except ValidationError as error:
        print_error(f"{config_path()}: {setting_problems(error)}")
        raise typer.Exit(2) from None
    flags = {
        "address": address,
        "namespace": namespace,
        "tls_cert": tls_cert,
        "tls_key": tls_key,
        "api_key": api_key,
    }
    chosen = {key: value for key, value in flags.items() if value is not None}
    if chosen:
        merged = settings.temporal.model_dump() | chosen
        settings = settings.model_copy(update={"temporal": TemporalSettings(**merged)})
    return settings


def _banner(settings: Settings, parts: stack.Parts) -> None:
    table = Table(title="SOAR is running", show_header=False)
    if parts.temporal:
        table.add_row("Temporal (embedded)", settings.temporal.target())
        table.add_row("Temporal Web UI", f"http://127.0.0.1:{settings.temporal.ui_port}")
    else:
        table.add_row("Temporal", f"{settings.temporal.target()} ({settings.temporal.namespace})")
    if parts.worker:
        table.add_row("Worker", f"task queue {settings.temporal.task_queue}")
    if parts.api:
        table.add_row("API", settings.base_url())
        table.add_row("OpenAPI", f"{settings.base_url()}/docs")
    table.add_row("Data directory", str(settings.data_dir.resolve()))
    console().print(table)
    console().print("Press Ctrl-C to stop.")


def _run(settings: Settings, parts: stack.Parts) -> None:
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        asyncio.run(stack.run(settings, parts, on_ready=lambda: _banner(settings, parts)))
    except stack.PartStopped as stopped:
        print_error(f"{stopped}; everything else stopped.")
        raise typer.Exit(1) from None
    console().print("Stopped cleanly.")


@app.command()
def up(
    temporal_address: TemporalAddress = None,
    namespace: Namespace = None,
    tls_cert: TlsCert = None,
    tls_key: TlsKey = None,
    api_key: ApiKey = None,
    one_process: Annotated[
        bool, typer.Option(help="Run the worker inside this process instead of its own.")
    ] = False,
) -> None:
    """Run everything: embedded Temporal (unless --temporal-address), worker and API."""
    path = config_path()
    if write_initial_config(path):
        console().print(f"Wrote {path} with a fresh webhook token and API token.")
        settings = _settings(temporal_address, namespace, tls_cert, tls_key, api_key)
        console().print("Webhook URLs, ready to paste into your SIEM:")
        for name, url in webhook_urls(settings).items():
            console().print(f"  {name:13} {url}", soft_wrap=True)
    settings = _settings(temporal_address, namespace, tls_cert, tls_key, api_key)
    _check_configuration(settings)
    parts = stack.Parts(
        temporal=settings.temporal.embedded, worker=True, api=True, worker_process=not one_process
    )
    _run(settings, parts)


@app.command()
def worker(
    temporal_address: TemporalAddress = None,
    namespace: Namespace = None,
    tls_cert: TlsCert = None,
    tls_key: TlsKey = None,
    api_key: ApiKey = None,
) -> None:
    """Run only the worker, against a Temporal cluster (default 127.0.0.1:7233)."""
    settings = _settings(temporal_address, namespace, tls_cert, tls_key, api_key)
    _check_configuration(settings)
    _run(settings, stack.Parts(temporal=False, worker=True, api=False))


@app.command()
def api(
    temporal_address: TemporalAddress = None,
    namespace: Namespace = None,
    tls_cert: TlsCert = None,
    tls_key: TlsKey = None,
    api_key: ApiKey = None,
) -> None:
    """Run only the HTTP API (webhooks, operator API) with its spool forwarder."""
    settings = _settings(temporal_address, namespace, tls_cert, tls_key, api_key)
    _check_configuration(settings)
    _run(settings, stack.Parts(temporal=False, worker=False, api=True))


@app.command()
def bot(
    socket: Annotated[
        bool, typer.Option("--socket", help="Connect to Slack over Socket Mode.")
    ] = False,
    temporal_address: TemporalAddress = None,
    namespace: Namespace = None,
) -> None:
    """Run the Slack bot alone over Socket Mode (HTTP mode is served by `soar api`)."""
    if not socket:
        console().print(
            "HTTP mode is part of `soar up` and `soar api` at /slack/events; "
            "use `soar bot --socket` for Socket Mode."
        )
        raise typer.Exit(2)
    settings = _settings(temporal_address, namespace, None, None, None)
    _check_configuration(settings)
    if not slack_mode(settings).socket:
        print_error("Socket Mode needs SLACK_BOT_TOKEN and SLACK_APP_TOKEN")
        raise typer.Exit(1)
    logging.basicConfig(level=settings.log_level)
    asyncio.run(stack.run_bot(settings))

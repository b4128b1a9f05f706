"""`soar playbooks list` and `soar playbooks test NAME --alert FILE`.

`test` is how an engineer checks a playbook before it goes live: the payload goes
through the source's own parser and the triage, then the playbook runs on a throwaway
embedded Temporal with a temporary case store, in dry-run, every approval request
approved by a built-in test decider. Nothing is contained: the actuators are recording
stand-ins named like the configured ones, and dry-run keeps even those uncalled. The
timeline it prints is what the playbook would have done.
"""

from __future__ import annotations

import asyncio
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from soar.alerts.models import Alert
from soar.cli.output import console, print_error
from soar.enrichment.activities import run_enrichers
from soar.enrichment.inventory import Inventory, load_inventory
from soar.enrichment.providers import EnricherRegistry
from soar.enrichment.scoring import triage
from soar.guardrails.settings import GuardrailSettings
from soar.ingest.decode import BodyError, decode
from soar.ingest.parsers import NDJSON_SOURCES, get_parser
from soar.ingest.parsers.base import ParseContext, ParseError
from soar.ingest.pipeline import parse_request
from soar.ingest.sources import resolve_source
from soar.runtime.integrations import actuators_of, enrichers_of
from soar.runtime.temporal_server import EmbeddedTemporal
from soar.settings import Settings, load_settings
from soar.store.db import Store
from soar.testing.actuators import RecordingActuator
from soar.testing.playbook_runner import PlaybookHarness, PlaybookRun
from workflows.sdk import PlaybookSpec, discover_playbooks

app = typer.Typer(
    help="List the installed playbooks and test them in dry-run.", no_args_is_help=True
)

NDJSON_SUFFIXES = frozenset({".ndjson", ".jsonl"})


class PlaybookTestError(Exception):
    """The test cannot run: an unknown playbook or source, or a payload with no alert."""


@app.command("list")
def list_playbooks() -> None:
    """Every installed playbook: its trigger, what it does, its options and where it comes
    from."""
    table = Table("name", "trigger", "description", "options", "source")
    for spec in discover_playbooks():
        mode = " (always dry-run)" if spec.dry_run else ""
        table.add_row(
            spec.name,
            spec.describe_triggers(),
            spec.description + mode,
            Text(spec.describe_options() or "-"),
            spec.source,
        )
    console().print(table)


@app.command("test")
def test_playbook(
    name: Annotated[str, typer.Argument(help="The playbook to run.")],
    alert: Annotated[
        Path,
        typer.Option(
            "--alert", exists=True, dir_okay=False, readable=True, help="A SIEM payload file."
        ),
    ],
    source: Annotated[
        str, typer.Option(help="The webhook source whose parser reads the payload.")
    ] = "generic",
) -> None:
    """Run a playbook on a payload in dry-run and print its timeline."""
    settings = load_settings()
    try:
        spec = find_playbook(name)
        parsed = parse_alert(settings, source, alert)
        bench = bench_for(settings)
    except PlaybookTestError as error:
        print_error(str(error))
        raise typer.Exit(2) from error
    if not spec.matches(parsed):
        console().print(
            f"[yellow]note:[/yellow] the trigger of {name} ({spec.describe_triggers()}) "
            "does not match this alert; live, it would not run on it."
        )
    run = asyncio.run(run_on_embedded_temporal(bench, spec, parsed))
    print_run(spec, parsed, run)
    if run.error:
        raise typer.Exit(1)


def find_playbook(name: str) -> PlaybookSpec:
    """The installed playbook called `name`."""
    specs = {spec.name: spec for spec in discover_playbooks()}
    if name not in specs:
        known = ", ".join(sorted(specs)) or "none"
        raise PlaybookTestError(f"no playbook named {name!r} (installed: {known})")
    return specs[name]


def parse_alert(settings: Settings, source: str, path: Path) -> Alert:
    """The first alert of a payload file, read by the source's parser as the webhook would."""
    resolved = resolve_source(settings, source)
    parser = get_parser(resolved.parser) if resolved else None
    if resolved is None or parser is None:
        raise PlaybookTestError(f"no source named {source!r}; see `soar sources`")
    ndjson = resolved.parser in NDJSON_SOURCES or path.suffix.lower() in NDJSON_SUFFIXES
    try:
        documents = decode(path.read_bytes(), fmt="ndjson" if ndjson else "json")
        parsed = parse_request(
            documents, parser, ParseContext(source=resolved.name, field_map=resolved.field_map)
        )
    except (BodyError, ParseError) as error:
        raise PlaybookTestError(f"{path} cannot be read as {source}: {error}") from error
    if not parsed.alerts:
        why = "; ".join(rejection.error for rejection in parsed.rejected) or "no alert in it"
        raise PlaybookTestError(f"{path} holds no alert for {source}: {why}")
    if len(parsed.alerts) > 1:
        console().print(f"{path} holds {len(parsed.alerts)} alerts; testing with the first.")
    return parsed.alerts[0][1]


@dataclass(frozen=True)
class Bench:
    """What a test run borrows from the configuration: policy, inventory, enrichers, and
    the names of the configured actuators (played by recording stand-ins)."""

    guardrails: GuardrailSettings
    inventory: Inventory
    enrichers: EnricherRegistry
    actuator_names: tuple[str, ...]


def bench_for(settings: Settings) -> Bench:
    """The configuration's test bench; a broken inventory or enrichment setting is an error."""
    try:
        inventory = (
            load_inventory(settings.inventory_file) if settings.inventory_file else Inventory()
        )
        enrichers = enrichers_of(settings)
        actuators = actuators_of(settings)
    except ValueError as error:
        raise PlaybookTestError(str(error)) from error
    return Bench(settings.guardrails, inventory, enrichers, tuple(a.name for a in actuators))


async def run_playbook_test(
    client: Client, store: Store, bench: Bench, spec: PlaybookSpec, alert: Alert
) -> PlaybookRun:
    """Triage the alert as its case workflow would, then run the playbook on it in
    dry-run, auto-approved."""
    enrichment = await run_enrichers(bench.enrichers, alert.observables)
    found = triage(alert, enrichment.enrichments, bench.inventory)
    async with PlaybookHarness(
        client,
        store,
        [spec],
        actuators=[RecordingActuator(name) for name in bench.actuator_names],
        guardrails=bench.guardrails,
        inventory=bench.inventory,
        enrichers=bench.enrichers,
        auto_approve=True,
    ) as harness:
        return await harness.run(spec, alert, triage=found, dry_run=True)


async def run_on_embedded_temporal(bench: Bench, spec: PlaybookSpec, alert: Alert) -> PlaybookRun:
    """:func:`run_playbook_test` on a throwaway Temporal and a temporary case store."""
    server = EmbeddedTemporal(db_file=None, port=_free_port(), ui_port=None)
    with console().status("Starting a throwaway Temporal…"):
        await server.start()
    try:
        client = await Client.connect(server.address, data_converter=pydantic_data_converter)
        with tempfile.TemporaryDirectory(prefix="soar-playbook-test-") as directory:
            store = Store(f"sqlite+aiosqlite:///{Path(directory) / 'store.sqlite3'}")
            try:
                await store.migrate()
                with console().status(f"Running {spec.name} in dry-run…"):
                    return await run_playbook_test(client, store, bench, spec, alert)
            finally:
                await store.close()
    finally:
        await server.stop()


def print_run(spec: PlaybookSpec, alert: Alert, run: PlaybookRun) -> None:
    """The timeline as a table, then the outcome."""
    console().print(
        Text.assemble(
            ("Playbook ", "bold"),
            (spec.name, "bold cyan"),
            " on ",
            (alert.title, "bold"),
            f" ({alert.source}, {alert.severity.level.value}) — dry run",
        )
    )
    table = Table("time", "kind", "who", "what")
    for event in run.timeline:
        what = Text(event.summary)
        if event.reason:
            what.append(f"\n{event.reason}", style="dim")
        table.add_row(f"{event.at:%H:%M:%S.%f}"[:-3], event.kind, event.actor, what)
    console().print(table)
    if run.error:
        console().print(f"[red]The playbook failed:[/red] {run.error}")
    else:
        approvals = ", ".join(f"{a.action} {a.target}: {a.state.value}" for a in run.approvals)
        actions = ", ".join(
            f"{a.command.action.value} {a.command.target.value}: {a.state.value}"
            for a in run.actions
        )
        console().print(f"Approvals: {approvals or 'none'}")
        console().print(f"Actions: {actions or 'none'}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port

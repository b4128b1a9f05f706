"""`soar enrich VALUE [--type T] [--fresh] [--tlp M]`: what every configured source says
about one value, and the combined verdict.

The lookup runs here, through the same guarded engine and the same cache in the case
store as triage (:mod:`soar.enrichment.service`, also behind `GET /api/enrichment`): a
cached answer costs no call and no quota, `--fresh` asks every source now, and nothing
internal or marked above a source's limit is sent. Values from vendors are shown
literally, never as Rich markup.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from soar.alerts.models import ObservableType
from soar.cli.cases import VERDICT_STYLE, cell, verdict_text
from soar.cli.output import print_error
from soar.enrichment.markings import parse_tlp
from soar.enrichment.models import SourceResult, SourceStatus, Tlp
from soar.enrichment.service import EnrichmentLookup, EnrichmentService
from soar.integrations.errors import IntegrationConfigError
from soar.runtime.integrations import enrichers_of
from soar.settings import Settings, load_settings
from soar.store.db import Store


def _tlp(value: str | None) -> Tlp | None:
    if value is None:
        return None
    marking = parse_tlp(value)
    if marking is None:
        raise typer.BadParameter("one of clear, green, amber, amber+strict, red")
    return marking


def _answer(source: SourceResult) -> Text:
    if source.status is not SourceStatus.ANSWERED:
        return Text(
            source.status.value, style="red" if source.status is SourceStatus.FAILED else "dim"
        )
    if not source.cached:
        return Text("fresh")
    when = source.fetched_at.strftime("%Y-%m-%d %H:%M UTC") if source.fetched_at else "earlier"
    return Text(f"cached ({when})", style="cyan")


def sources_table(found: EnrichmentLookup) -> Table:
    """One row per source: its verdict, score, reason and link, or why it has none."""
    observable = found.verdict.observable
    guessed = " (type guessed)" if found.guessed_type else ""
    table = Table(
        "source",
        "verdict",
        "score",
        "reason",
        "link",
        "answer",
        title=Text(
            f"{observable.type.value} {observable.value}{guessed}, {found.verdict.tlp.label}"
        ),
        title_justify="left",
    )
    for source in found.verdict.sources:
        table.add_row(
            cell(source.provider),
            verdict_text(source.verdict),
            cell(source.score),
            cell(source.reason),
            cell(source.link),
            _answer(source),
        )
    for local in found.local:
        table.add_row(
            cell(local.provider),
            verdict_text(local.verdict),
            cell(local.score),
            cell(local.reasons[0] if local.reasons else None),
            cell(local.link),
            Text("local", style="dim"),
        )
    return table


def combined_text(found: EnrichmentLookup) -> Text:
    """The combined line and the reasons that drove it."""
    verdict = found.verdict
    text = Text.assemble(
        ("Combined: ", "bold"),
        (f"{verdict.verdict.value} ({verdict.score}/100)", VERDICT_STYLE[verdict.verdict]),
    )
    if verdict.by:
        text.append(f" according to {', '.join(verdict.by)}")
    for reason in verdict.reasons:
        text.append(f"\n  • {reason}")
    if not verdict.sources and not found.local:
        text.append("\n  • no enrichment source is configured ([enrichment.providers])")
    return text


async def _lookup(
    settings: Settings, value: str, kind: ObservableType | None, fresh: bool, tlp: Tlp | None
) -> EnrichmentLookup:
    store = Store(settings.resolved_database_url())
    try:
        await store.migrate()
        service = EnrichmentService.from_settings(settings, store, enrichers_of(settings))
        try:
            return await service.lookup(value, kind, fresh=fresh, tlp=tlp)
        finally:
            await service.aclose()
    finally:
        await store.close()


def enrich(
    value: Annotated[str, typer.Argument(help="An IP, domain, host name, URL, email or hash.")],
    type: Annotated[
        ObservableType | None, typer.Option("--type", help="What VALUE is (default: guessed).")
    ] = None,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Ask every source now instead of the cache.")
    ] = False,
    tlp: Annotated[
        str | None,
        typer.Option(help="VALUE's TLP marking (default: enrichment.default_tlp)."),
    ] = None,
) -> None:
    """What every configured source says about VALUE, and the combined verdict."""
    marking = _tlp(tlp)
    settings = load_settings()
    try:
        found = asyncio.run(_lookup(settings, value, type, fresh, marking))
    except IntegrationConfigError as error:
        print_error(str(error))
        raise typer.Exit(2) from None
    console = Console()
    console.print(sources_table(found))
    console.print(combined_text(found))
    if found.failures:
        console.print(Text("\n".join(found.failures), style="red"))

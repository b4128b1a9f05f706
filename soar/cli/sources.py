"""`soar sources`: each webhook source, its URL and how it authenticates."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from soar.ingest.sources import all_sources, describe_auth
from soar.settings import load_settings


def show_sources() -> None:
    """List every webhook source with its URL and authentication (secrets never shown)."""
    settings = load_settings()
    table = Table("source", "parser", "url", "authentication")
    for source in all_sources(settings):
        table.add_row(
            source.name,
            source.parser,
            f"{settings.base_url()}/webhooks/{source.name}",
            describe_auth(source, shared_token=settings.webhook_token is not None),
        )
    Console().print(table)

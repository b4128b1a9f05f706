"""`soar integrations list` and `soar integrations check NAME`.

`list` shows every integration type the `soar.integrations` entry points install: its
vendor, what it handles, what it can be configured as — and the ones that failed to
load, with why. `check NAME` takes a configured actuator (`[actuators.NAME]`),
enrichment provider (`[enrichment.providers.NAME]`), ticket system (`[tickets.NAME]`)
or pager (`[paging.NAME]`), validates its options the way the worker does (a bad one
names the setting, never its value; exit 2), then runs the integration's own `check` —
reach the product, have the credentials accepted — and prints what it found, line by
line. Nothing is changed; an `IntegrationError` is one line and exit 1.

The commands are built around a source of installed integrations (:func:`build`), so
tests can hand them an :class:`~soar.runtime.integrations.Installed` of their own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from rich.text import Text

from integrations.core.integration import Check, Integration
from integrations.core.options import IntegrationOptions
from soar.cli.output import print_error
from soar.enrichment.service import quota_today
from soar.integrations.errors import IntegrationConfigError, IntegrationError
from soar.integrations.registry import IntegrationSettings
from soar.runtime.integrations import Installed, installed, options_of
from soar.settings import Settings, config_path, load_settings, setting_problems

ACTUATORS = "actuators"
PROVIDERS = "enrichment.providers"
TICKETS = "tickets"
PAGING = "paging"


def build(found: Callable[[], Installed] = installed) -> typer.Typer:
    """The `soar integrations` commands over the integrations `found` returns."""
    app = typer.Typer(
        help="List the installed integrations and check a configured one.",
        no_args_is_help=True,
    )

    @app.command("list")
    def list_integrations() -> None:
        """Every installed integration type, and the ones that failed to load."""
        every = found()
        table = Table("type", "vendor", "handles", "kinds", "status")
        for kind, integration in sorted(every.integrations.items()):
            table.add_row(
                Text(kind),
                Text(integration.vendor),
                Text(integration.handles),
                Text(", ".join(integration.kinds) or "-"),
                Text("ok", style="green"),
            )
        for kind, why in sorted(every.broken.items()):
            table.add_row(Text(kind), "-", "-", "-", Text(f"broken: {why}", style="red"))
        Console().print(table)

    @app.command("check")
    def check(
        name: Annotated[
            str,
            typer.Argument(
                help="A configured actuator, enrichment provider, ticket system or pager."
            ),
        ],
    ) -> None:
        """Validate NAME's configuration, then reach its product with it (changes
        nothing)."""
        settings = _settings()
        configured = _configured(settings, name)
        if not configured:
            _fail(
                f"no actuator, enrichment provider, ticket system or pager is configured "
                f"as {name!r} "
                f"(configured: {', '.join(_names(settings)) or 'none'})",
                2,
            )
        every = found()
        for section, entry in configured:
            _check_one(every, section, name, entry)
            if section == PROVIDERS:
                _quota(
                    settings,
                    name,
                    options_of(every.integrations[entry.type], section, name, entry.options),
                )

    return app


def _quota(settings: Settings, name: str, options: IntegrationOptions) -> None:
    """The provider's daily quota today, as counted in the case store."""
    line = asyncio.run(quota_today(settings, name, getattr(options, "daily_quota", None)))
    if line is not None:
        Console().print(Text(line))


def _settings() -> Settings:
    try:
        return load_settings()
    except ValidationError as error:
        _fail(f"{config_path()}: {setting_problems(error)}", 2)


def _configured(settings: Settings, name: str) -> list[tuple[str, IntegrationSettings]]:
    """Where `name` is configured: as an actuator, an enrichment provider, a ticket
    system, a pager — or several of them."""
    found = [
        (ACTUATORS, settings.actuators.get(name)),
        (PROVIDERS, settings.enrichment.providers.get(name)),
        (TICKETS, settings.tickets.get(name)),
        (PAGING, settings.paging.get(name)),
    ]
    return [(section, entry) for section, entry in found if entry is not None]


def _names(settings: Settings) -> list[str]:
    return sorted(
        {*settings.actuators, *settings.enrichment.providers, *settings.tickets, *settings.paging}
    )


def _check_one(every: Installed, section: str, name: str, entry: IntegrationSettings) -> None:
    console = Console()
    integration = _integration(every, section, name, entry.type)
    try:
        options = options_of(integration, section, name, entry.options)
    except IntegrationConfigError as error:
        _fail(str(error), 2)
    console.print(
        Text.assemble(("configuration: ", "green"), f"{section}.{name} ({entry.type}) is valid")
    )
    if integration.check is None:
        console.print(Text(f"{entry.type} offers no check of its own; nothing was reached"))
        return
    try:
        lines = asyncio.run(_reach(integration.check, name, options))
    except IntegrationError as error:
        _fail(str(error), 1)
    for line in lines:
        console.print(Text(line))


async def _reach(check: Check[Any], name: str, options: IntegrationOptions) -> list[str]:
    """Run an integration's check (an awaitable, not always a coroutine)."""
    return await check(name, options)


def _integration(every: Installed, section: str, name: str, kind: str) -> Integration[Any]:
    integration = every.integrations.get(kind)
    if integration is not None:
        return integration
    why = every.broken.get(kind)
    if why is not None:
        _fail(
            f"{section}.{name}.type: the integration {kind!r} is installed but failed to "
            f"load ({why})",
            2,
        )
    known = ", ".join(sorted(every.integrations)) or "none"
    _fail(
        f"{section}.{name}.type: {kind!r} is not a type any installed integration provides "
        f"(known types: {known})",
        2,
    )


def _fail(message: str, code: int) -> NoReturn:
    """Print `message` (literally: it may quote configuration) and exit with `code`."""
    print_error(message)
    raise typer.Exit(code)


app = build()

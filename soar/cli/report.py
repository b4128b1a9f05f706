"""`soar report …`: reports people read, rendered here from the case store.

`soar report case ID [--format md|html|slack] [--kind escalation|tactical|executive]
[--output FILE]` renders a case summary through
:func:`soar.reports.service.render_case_report`, the service behind `GET
/api/cases/{id}/report` and `/soar report`, reading the store the configuration names.
Markdown and HTML are printed (or written to FILE) as they are; Slack comes as the JSON
`{"text", "blocks"}` of `chat.postMessage`. Nothing is parsed as Rich markup.
`soar report digest` (:mod:`soar.cli.digest`) renders management's digest on demand.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from soar.cli.digest import digest
from soar.cli.output import print_error
from soar.errors import NotFoundError
from soar.reports.kinds import ReportFormat, ReportKind
from soar.reports.service import Rendered, ReportConfigError, render_case_report
from soar.settings import Settings, config_path, load_settings, setting_problems
from soar.store.db import Store

app = typer.Typer(help="Reports people read: case summaries and digests.", no_args_is_help=True)
app.command("digest")(digest)


def _fail(message: str, code: int) -> typer.Exit:
    """Print `message` literally on stderr; the exit to raise."""
    print_error(message)
    return typer.Exit(code)


def _settings() -> Settings:
    try:
        return load_settings()
    except ValidationError as error:
        raise _fail(f"{config_path()}: {setting_problems(error)}", 2) from None


async def _render(
    settings: Settings, case_id: str, kind: ReportKind, format: ReportFormat
) -> Rendered:
    store = Store(settings.resolved_database_url())
    try:
        await store.migrate()
        return await render_case_report(store, case_id, kind, format, settings)
    finally:
        await store.close()


def _document(rendered: Rendered) -> str:
    """What is printed or written: the document, or Slack's message as JSON."""
    if rendered.blocks is None:
        return rendered.text
    message = {"text": rendered.text, "blocks": rendered.blocks}
    return json.dumps(message, indent=2, ensure_ascii=False) + "\n"


@app.command("case")
def case(
    case_id: Annotated[str, typer.Argument(help="The case's id.")],
    format: Annotated[
        ReportFormat,
        typer.Option("--format", help="md, html (ready for e-mail) or slack (Block Kit JSON)."),
    ] = ReportFormat.MARKDOWN,
    kind: Annotated[
        ReportKind,
        typer.Option("--kind", help="escalation, tactical (CAN) or executive."),
    ] = ReportKind.ESCALATION,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write it to FILE instead.")
    ] = None,
) -> None:
    """A case's summary: what happened, impact, containment, who is on it, what next."""
    settings = _settings()
    try:
        rendered = asyncio.run(_render(settings, case_id, kind, format))
    except NotFoundError as error:
        raise _fail(error.message, 1) from None
    except ReportConfigError as error:
        raise _fail(error.message, 2) from None
    document = _document(rendered)
    if output is None:
        typer.echo(document, nl=False)
        return
    try:
        output.write_text(document, encoding="utf-8")
    except OSError as error:
        raise _fail(f"cannot write {output}: {error.strerror or error}", 1) from None
    typer.echo(f"Wrote the {kind.label.lower()} of case {case_id.strip()} to {output}")

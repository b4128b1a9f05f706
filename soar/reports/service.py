"""Case summaries, rendered once for every surface: `soar report case`, `GET
/api/cases/{id}/report` and `/soar report` in Slack.

:func:`render_case_report` gathers the case's context from the store and the
inventory (:mod:`soar.reports.case_report`) and renders the template
`case_<kind>.<format>.j2` — shipped, or the operator's from `[reports] templates_dir`
— in the sandboxed report environment. Markdown and HTML come back as text; Slack as
Block Kit blocks held to Slack's limits, with the notification text beside them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from soar.enrichment.inventory import Inventory, InventoryError, load_inventory
from soar.errors import OperationError
from soar.reports.case_context import CaseReport
from soar.reports.case_report import gather_case_report
from soar.reports.environment import report_environment
from soar.reports.kinds import ReportFormat, ReportKind
from soar.reports.slack_blocks import JsonBlock, SlackTemplateError, blocks_from_lines
from soar.reports.text import clip_escaped
from soar.safe_text import escape_mrkdwn
from soar.settings import Settings
from soar.store.repository import Repository

FALLBACK_TEXT = 3000


class ReportConfigError(OperationError):
    """A report cannot be made with this configuration: a template (shipped or the
    operator's) fails, or the inventory cannot be read. The message names which."""


@dataclass(frozen=True)
class Rendered:
    """A rendered report: `text` is the Markdown or HTML document, or for Slack the
    message's notification text (safe mrkdwn) beside its `blocks`."""

    kind: ReportKind
    format: ReportFormat
    text: str
    blocks: list[JsonBlock] | None = None


def template_name(kind: ReportKind, format: ReportFormat) -> str:
    """The template a kind and format is rendered with: `case_tactical.html.j2`."""
    return f"case_{kind.value}.{format.value}.j2"


async def render_case_report(
    store: Repository,
    case_id: str,
    kind: ReportKind,
    format: ReportFormat,
    settings: Settings,
    *,
    now: datetime | None = None,
) -> Rendered:
    """Case `case_id`'s report of `kind` in `format`. Raises :class:`NotFoundError` for an
    unknown case and :class:`ReportConfigError` for a template or inventory that fails."""
    report = await gather_case_report(
        store, case_id, inventory=_inventory(settings), now=now or datetime.now(UTC)
    )
    return render_report(report, kind, format, settings.reports.templates_dir)


def render_report(
    report: CaseReport, kind: ReportKind, format: ReportFormat, templates_dir: Path | None
) -> Rendered:
    """A gathered report rendered with its template (the operator's when they have one)."""
    name = template_name(kind, format)
    try:
        text = _environment(templates_dir).get_template(name).render(report=report)
    except (TemplateError, TypeError, ValueError) as error:
        raise ReportConfigError(f"{_origin(name, templates_dir)}: {error}") from None
    if format is not ReportFormat.SLACK:
        return Rendered(kind, format, text)
    try:
        blocks = blocks_from_lines(text)
    except SlackTemplateError as error:
        raise ReportConfigError(f"{_origin(name, templates_dir)}: {error}") from None
    fallback = escape_mrkdwn(f"{kind.label} of case {report.case_id}: {report.title}")
    return Rendered(kind, format, clip_escaped(fallback, FALLBACK_TEXT), blocks)


@functools.lru_cache(maxsize=8)
def _environment(templates_dir: Path | None) -> ImmutableSandboxedEnvironment:
    """One environment per templates directory: its compiled templates are kept, and
    reloaded when an override's file changes."""
    return report_environment(templates_dir)


def _origin(name: str, templates_dir: Path | None) -> str:
    """Which template failed: the operator's override or the shipped one."""
    if templates_dir is not None and (templates_dir / name).is_file():
        return f"report template {name} from reports.templates_dir ({templates_dir})"
    return f"shipped report template {name}"


def _inventory(settings: Settings) -> Inventory:
    """The asset and identity inventory, or an empty one when none is configured."""
    if settings.inventory_file is None:
        return Inventory()
    try:
        return load_inventory(settings.inventory_file)
    except InventoryError as error:
        raise ReportConfigError(f"inventory_file: {error}") from None

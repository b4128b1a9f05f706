"""The digest rendered for every surface: Markdown, HTML ready for e-mail (the chart
inline as SVG), and Slack Block Kit (the chart uploaded beside it as a PNG).

:func:`build_digest` reads the figures of a window from the store and draws the chart
(off the event loop); :func:`render_digest` renders the templates `digest.md.j2`,
`digest.html.j2` and `digest.slack.j2` — shipped, or the operator's from `[reports]
templates_dir` — in the sandboxed report environment, where everything that came from
an alert is data, escaped by each template for its format.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from pathlib import Path

from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncEngine

from soar.reports.chart import Chart, render_chart
from soar.reports.digest_view import DigestView, digest_view
from soar.reports.digest_window import DigestWindow
from soar.reports.environment import report_environment
from soar.reports.figures import DigestFigures, digest_figures
from soar.reports.service import ReportConfigError
from soar.reports.slack_blocks import JsonBlock, SlackTemplateError, blocks_from_lines
from soar.reports.text import clip_escaped
from soar.safe_text import escape_mrkdwn

FALLBACK_TEXT = 3000
MARKDOWN_TEMPLATE = "digest.md.j2"
HTML_TEMPLATE = "digest.html.j2"
SLACK_TEMPLATE = "digest.slack.j2"


@dataclass(frozen=True)
class Digest:
    """A digest's figures, in words, and its chart."""

    figures: DigestFigures
    view: DigestView
    chart: Chart


@dataclass(frozen=True)
class RenderedDigest:
    """The digest in every format. `slack_text` is the notification text (safe mrkdwn)
    beside `slack_blocks`; `chart_png` goes to Slack as a file."""

    markdown: str
    html: str
    slack_text: str
    slack_blocks: list[JsonBlock]
    chart_png: bytes


async def build_digest(engine: AsyncEngine, window: DigestWindow) -> Digest:
    """The figures of `window` from the store, and their chart."""
    figures = await digest_figures(engine, window)
    chart = await asyncio.to_thread(render_chart, figures.days)
    return Digest(figures, digest_view(figures), chart)


def render_digest(digest: Digest, templates_dir: Path | None) -> RenderedDigest:
    """Every format of `digest`, with the operator's templates where they have them.
    Raises :class:`ReportConfigError` naming the template that failed."""
    environment = _environment(templates_dir)
    markdown = _render(environment, MARKDOWN_TEMPLATE, templates_dir, digest)
    html = _render(environment, HTML_TEMPLATE, templates_dir, digest)
    slack = _render(environment, SLACK_TEMPLATE, templates_dir, digest)
    try:
        blocks = blocks_from_lines(slack)
    except SlackTemplateError as error:
        raise ReportConfigError(f"{_origin(SLACK_TEMPLATE, templates_dir)}: {error}") from None
    text = escape_mrkdwn(f"{digest.view.title}: {digest.view.headline}")
    return RenderedDigest(
        markdown, html, clip_escaped(text, FALLBACK_TEXT), blocks, digest.chart.png
    )


def _render(
    environment: ImmutableSandboxedEnvironment,
    name: str,
    templates_dir: Path | None,
    digest: Digest,
) -> str:
    try:
        return environment.get_template(name).render(
            digest=digest.view,
            chart_svg=Markup(digest.chart.svg),  # noqa: S704 - our own SVG
        )
    except (TemplateError, TypeError, ValueError) as error:
        raise ReportConfigError(f"{_origin(name, templates_dir)}: {error}") from None


@functools.lru_cache(maxsize=8)
def _environment(templates_dir: Path | None) -> ImmutableSandboxedEnvironment:
    """One environment per templates directory, its compiled templates kept."""
    return report_environment(templates_dir)


def _origin(name: str, templates_dir: Path | None) -> str:
    """Which template failed: the operator's override or the shipped one."""
    if templates_dir is not None and (templates_dir / name).is_file():
        return f"digest template {name} from reports.templates_dir ({templates_dir})"
    return f"shipped digest template {name}"

"""The digest's chart: alerts and cases opened per day, as SVG (for the HTML digest) and
PNG (uploaded to Slack), drawn with matplotlib's Agg and SVG backends — no display, no
pyplot state.

Two panels share the days: alerts above, cases opened below, each bar labelled with its
count. Every bar carries an id (`alerts-2026-03-23`, `cases-2026-03-23`) in the SVG, so a
browser test can find it. Only dates and numbers are drawn, never alert content. The
SVG is made for inlining: no XML prolog, sized by its container (`viewBox` kept,
`width`/`height` dropped), text as text, and the same ids on every run.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from soar.reports.figures import DayCount

ALERT_COLOUR = "#2f6fba"
CASE_COLOUR = "#d9822b"
SIZE_INCHES = (8.0, 4.2)
PNG_DPI = 150
_STYLE_LOCK = threading.Lock()
"""matplotlib's style settings are process-wide: one chart is styled at a time."""
_SIZE_ATTRIBUTES = re.compile(r'\s(?:width|height)="[^"]*"')


@dataclass(frozen=True)
class Chart:
    """The same chart twice: inline SVG markup and PNG bytes."""

    svg: str
    png: bytes


def render_chart(days: Sequence[DayCount]) -> Chart:
    """Draw alerts and cases opened per day (CPU-bound: run it off the event loop)."""
    with (
        _STYLE_LOCK,
        matplotlib.rc_context(
            {"svg.hashsalt": "soar-digest", "svg.fonttype": "none", "font.size": 9.0}
        ),
    ):
        figure = _draw(days)
        svg = io.StringIO()
        figure.savefig(svg, format="svg", metadata={"Date": None})
        png = io.BytesIO()
        figure.savefig(png, format="png", dpi=PNG_DPI, metadata={"Software": None})
    return Chart(svg=_inline(svg.getvalue()), png=png.getvalue())


def _draw(days: Sequence[DayCount]) -> Figure:
    figure = Figure(figsize=SIZE_INCHES, layout="constrained")
    alerts_axes, cases_axes = figure.subplots(2, 1, sharex=True)
    positions = list(range(len(days)))
    labels = [day.day.strftime("%a %d %b") for day in days]
    _panel(alerts_axes, positions, [d.alerts for d in days], days, "alerts", ALERT_COLOUR)
    _panel(cases_axes, positions, [d.cases for d in days], days, "cases", CASE_COLOUR)
    alerts_axes.set_ylabel("Alerts")
    cases_axes.set_ylabel("Cases opened")
    cases_axes.set_xticks(positions, labels, rotation=30 if len(days) > 10 else 0, ha="center")
    if len(days) > 16:
        for index, label in enumerate(cases_axes.get_xticklabels()):
            label.set_visible(index % max(len(days) // 14, 1) == 0)
    return figure


def _panel(
    axes: Axes,
    positions: list[int],
    counts: list[int],
    days: Sequence[DayCount],
    name: str,
    colour: str,
) -> None:
    bars = axes.bar(positions, counts, color=colour, width=0.7)
    for bar, day in zip(bars, days, strict=True):
        bar.set_gid(f"{name}-{day.day.isoformat()}")
    if len(days) <= 16:
        axes.bar_label(bars, padding=2, fontsize=8)
    axes.set_ylim(0, max([*counts, 1]) * 1.25)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.grid(axis="y", linewidth=0.4, alpha=0.5)
    axes.set_axisbelow(True)


def _inline(svg: str) -> str:
    """The `<svg>` element alone, sized by its container."""
    element = svg[svg.index("<svg") :]
    tag_end = element.index(">")
    opening = _SIZE_ATTRIBUTES.sub("", element[:tag_end])
    return f'{opening} role="img" aria-label="Alerts and cases opened per day"{element[tag_end:]}'

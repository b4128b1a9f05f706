"""The one jinja2 environment every report is rendered in.

Templates are the product's (shipped in `soar/reports/templates/`) or the operator's
(`[reports] templates_dir`, whose files replace the shipped ones of the same name).
Alert content is only ever data passed to a template, never template source: the
environment is sandboxed (a template cannot reach Python internals), HTML templates
(`*.html.j2`) autoescape, Slack templates escape through the `mrkdwn` filter and
Markdown templates through the `md` filter. Links are made by `md_link` and
`slack_link` (http(s) only), times shown by `utc`. An undefined name is an error, not
an empty string, so a broken override fails loudly.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from soar.reports.text import escape_markdown, markdown_link, slack_link, utc
from soar.safe_text import escape_mrkdwn


def _autoescape(name: str | None) -> bool:
    return name is not None and name.endswith((".html.j2", ".html"))


def report_environment(templates_dir: Path | None = None) -> ImmutableSandboxedEnvironment:
    """The sandboxed environment, reading `templates_dir` first when given."""
    loaders: list[FileSystemLoader | PackageLoader] = []
    if templates_dir is not None:
        loaders.append(FileSystemLoader(templates_dir))
    loaders.append(PackageLoader("soar.reports", "templates"))
    environment = ImmutableSandboxedEnvironment(
        loader=ChoiceLoader(loaders),
        autoescape=_autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["mrkdwn"] = escape_mrkdwn
    environment.filters["md"] = escape_markdown
    environment.filters["md_link"] = markdown_link
    environment.filters["slack_link"] = slack_link
    environment.filters["utc"] = utc
    return environment

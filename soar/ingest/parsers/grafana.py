"""Grafana alerting webhook: the Alertmanager shape plus Grafana's own fields.

Grafana adds `orgId`, `title`, `state` and `message` to the group and `dashboardURL`,
`panelURL`, `silenceURL` and `values` to each alert. Parsing is Alertmanager's; the
link is `generatorURL` (the alert rule), else the panel, else the dashboard, and the
non-empty panel/dashboard URLs are listed in the description. Signature checking
(`X-Grafana-Alerting-Signature`) happens before parsing, in the HTTP layer.
"""

from __future__ import annotations

from typing import Any

from soar.ingest.parsers.alertmanager import parse_group
from soar.ingest.parsers.base import Item, ParseContext

LINK_FIELDS = ("generatorURL", "panelURL", "dashboardURL")
GROUP_FIELDS = ("orgId", "title", "state")


def parse(document: Any, context: ParseContext) -> list[Item]:
    """One item per element of `alerts`."""
    return parse_group(document, context, link_fields=LINK_FIELDS, group_fields=GROUP_FIELDS)

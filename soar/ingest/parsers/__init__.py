"""SIEM payload parsers, one per source, registered by name.

Each module's `parse` follows the contract in :mod:`soar.ingest.parsers.base`.
"""

from __future__ import annotations

from soar.ingest.parsers import (
    alertmanager,
    datadog,
    elastic,
    generic,
    grafana,
    graylog,
    guardduty,
    sentinel,
    splunk,
    suricata,
    wazuh,
)
from soar.ingest.parsers.base import Parser

PARSERS: dict[str, Parser] = {
    "generic": generic.parse,
    "splunk": splunk.parse,
    "elastic": elastic.parse,
    "wazuh": wazuh.parse,
    "alertmanager": alertmanager.parse,
    "grafana": grafana.parse,
    "sentinel": sentinel.parse,
    "guardduty": guardduty.parse,
    "graylog": graylog.parse,
    "datadog": datadog.parse,
    "suricata": suricata.parse,
}

NDJSON_SOURCES: frozenset[str] = frozenset({"suricata"})
"""Sources whose native body is NDJSON: one JSON document per line, parsed line by line."""


def get_parser(name: str) -> Parser | None:
    """The parser registered under `name`, or None."""
    return PARSERS.get(name)

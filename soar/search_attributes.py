"""The custom search attributes the product registers, so alerts and cases are listable
in the Temporal Web UI and with `client.list_workflows(query)`.

Never put secrets or personal data here: search attributes are stored unencrypted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio.common import SearchAttributeKey, SearchAttributePair

if TYPE_CHECKING:
    from soar.alerts.models import Alert

SEVERITY = SearchAttributeKey.for_keyword("Severity")
SOURCE = SearchAttributeKey.for_keyword("Source")
RULE = SearchAttributeKey.for_keyword("Rule")
ALERT_STATUS = SearchAttributeKey.for_keyword("AlertStatus")
CASE_STATE = SearchAttributeKey.for_keyword("CaseState")
CORRELATION_KEY = SearchAttributeKey.for_keyword("CorrelationKey")

ALL = (SEVERITY, SOURCE, RULE, ALERT_STATUS, CASE_STATE, CORRELATION_KEY)

KEYWORD_MAX = 255


def keyword(value: str | None) -> str:
    """Clip a value to what a Keyword attribute should carry."""
    return (value or "")[:KEYWORD_MAX]


def alert_attributes(alert: Alert) -> list[SearchAttributePair[str]]:
    """Severity, Source, Rule and AlertStatus of an alert: set at start, upserted on change."""
    return [
        SearchAttributePair(SEVERITY, alert.severity.level.value),
        SearchAttributePair(SOURCE, keyword(alert.source)),
        SearchAttributePair(RULE, keyword(alert.rule.name or alert.title)),
        SearchAttributePair(ALERT_STATUS, alert.status.value),
    ]

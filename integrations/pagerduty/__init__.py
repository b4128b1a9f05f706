"""PagerDuty: page the on-call through a service's Events API v2 integration — one alert
per case (dedup key = case id), triggered, acknowledged and resolved as the case goes."""

from __future__ import annotations

from integrations.core.integration import Integration
from integrations.pagerduty.options import PagerDutyOptions
from integrations.pagerduty.pager import PagerDutyPager, check

INTEGRATION = Integration(
    vendor="PagerDuty",
    handles="pages the on-call (Events API v2): one alert per case, acknowledged and "
    "resolved with it",
    options=PagerDutyOptions,
    pager=PagerDutyPager,
    check=check,
)

__all__ = ["INTEGRATION", "PagerDutyOptions", "PagerDutyPager"]

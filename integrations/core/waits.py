"""Reading a vendor's "wait before retrying" signal, in each of the forms vendors use:
`Retry-After` in seconds or as an HTTP date (Microsoft, Cloudflare, AbuseIPDB, Jira),
an epoch timestamp (CrowdStrike `X-Ratelimit-Retryafter`, Okta `X-Rate-Limit-Reset`),
or an ISO-8601 time (Jira `X-RateLimit-Reset`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

WaitSignal = Callable[[httpx.Response], float | None]
"""Seconds the vendor asks us to wait, read from a response; None when it does not say."""

EPOCH_HEADERS = ("x-ratelimit-retryafter", "x-rate-limit-reset")
ISO_HEADERS = ("x-ratelimit-reset",)
LARGEST_DELAY = 7 * 24 * 3600
"""A plain number above this is an epoch timestamp, not a delay."""


def seconds_until(value: str, *, now: float | None = None) -> float | None:
    """The wait a header value means: seconds, an epoch, an HTTP date or an ISO time."""
    now = time.time() if now is None else now
    text = value.strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None:
        return max(number - now, 0.0) if number > LARGEST_DELAY else max(number, 0.0)
    moment: datetime | None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(moment.timestamp() - now, 0.0)


def standard_wait(response: httpx.Response) -> float | None:
    """`Retry-After`, then the epoch headers, then the ISO header — the first that reads."""
    for name in ("retry-after", *EPOCH_HEADERS, *ISO_HEADERS):
        value = response.headers.get(name)
        if value is not None:
            wait = seconds_until(value)
            if wait is not None:
                return wait
    return None


def fixed_wait(seconds: float) -> WaitSignal:
    """For a vendor that gives no signal (PagerDuty: wait about 30 s)."""

    def wait(response: httpx.Response) -> float | None:
        return standard_wait(response) or seconds

    return wait

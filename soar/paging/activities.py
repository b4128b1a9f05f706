"""The paging activity: trigger, acknowledge or resolve the case's alert at a pager.

The dedup key is the case id, so repeating a page (a retried step, a repeated level)
changes nothing the first did not. Failures reach Temporal as
:mod:`soar.integrations.failures` says: a refused routing key fails the step once with
the pager's name and why; a rate limit is retried after a wait.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from soar.integrations.failures import reported_to_temporal
from soar.paging.models import PAGE, PageReceipt, PageRequest
from soar.paging.pagers import Pager, PagerRegistry


class PagingActivities:
    """The paging activity over the configured pagers."""

    def __init__(self, pagers: PagerRegistry) -> None:
        self.pagers = pagers

    def all(self) -> list[Callable[..., Any]]:
        """Every activity of this class, for a worker."""
        return [self.page]

    @activity.defn(name=PAGE)
    async def page(self, request: PageRequest) -> PageReceipt:
        """Send the page through `request.pager`."""
        pager = self._pager(request.pager)
        async with reported_to_temporal():
            return await pager.send(request.event())

    def _pager(self, name: str) -> Pager:
        pager = self.pagers.get(name)
        if pager is None:
            configured = ", ".join(p.name for p in self.pagers) or "none"
            raise ApplicationError(
                f"no pager is configured as {name!r} (configured: {configured})",
                type="UnknownPager",
                non_retryable=True,
            )
        return pager

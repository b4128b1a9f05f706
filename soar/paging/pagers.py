"""Pagers: the interface paging integrations implement, and the registry.

A :class:`Pager` sends events to one on-call service (a PagerDuty service's Events API
v2 integration). The contract every implementation keeps:

- `send` is safe to repeat: the event's dedup key (the case id) names one alert, so a
  second trigger adds to the open alert, and acknowledging or resolving what already is
  changes nothing.
- Vendor failures are :mod:`soar.integrations.errors`: a refused routing key or token is
  :class:`~soar.integrations.errors.CredentialsRejected`, a rate limit
  :class:`~soar.integrations.errors.RateLimited` with the wait before a retry.
- Nothing secret in a :class:`~soar.paging.models.PageReceipt`.

Pagers are configured by name under `[paging.<name>]` with a `type` and `options`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from soar.integrations.registry import Factory, IntegrationSettings, Registry, build_members
from soar.paging.models import PageEvent, PageReceipt

PagerSettings = IntegrationSettings
"""`[paging.<name>]`: the integration `type` and its `options`."""


@runtime_checkable
class Pager(Protocol):
    """Sends page events to one on-call service; see the module for the contract."""

    @property
    def name(self) -> str:
        """The configured name, recorded on each receipt."""
        ...

    @property
    def vendor(self) -> str:
        """The product, in words ("PagerDuty")."""
        ...

    async def send(self, event: PageEvent) -> PageReceipt:
        """Trigger, acknowledge or resolve the alert `event.dedup_key` names."""
        ...


PagerFactory = Factory[Pager]
"""Makes a pager from its configured name and its `options`."""


class PagerRegistry(Registry[Pager]):
    """The configured pagers, in configuration order."""


def build_pager_registry(
    settings: Mapping[str, PagerSettings], factories: Mapping[str, PagerFactory] | None = None
) -> PagerRegistry:
    """The registry for the `paging` settings. A type no factory makes is an error."""
    return PagerRegistry(build_members("paging", settings, factories or {}))

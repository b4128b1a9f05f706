"""The playbook SDK's activities: the parts that need configuration or the network.

They run outside the workflow sandbox. Workflow code calls them by name (the constants
in :mod:`workflows.sdk.models` and `MATCH_PLAYBOOKS`), so nothing in the sandbox
imports this module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from temporalio import activity

from soar.approvals.models import ApprovalSettings
from soar.cases.activities import (
    MATCH_PLAYBOOKS,
    MatchRequest,
    PlaybookLaunch,
    PlaybookSettings,
)
from soar.enrichment.activities import run_enrichers
from soar.enrichment.markings import Markings
from soar.enrichment.providers import EnricherRegistry, build_enricher_registry
from soar.settings import Settings
from workflows.sdk.models import (
    APPROVAL_POLICY,
    ENRICH_OBSERVABLES,
    ApprovalPolicy,
    EnrichRequest,
    EnrichResult,
)
from workflows.sdk.spec import PlaybookSpec


class PlaybookActivities:
    """Bound to the installed playbooks and their `[playbooks.<name>]` settings, who may
    decide, and the enrichers to run."""

    def __init__(
        self,
        playbooks: Sequence[PlaybookSpec],
        *,
        approvals: ApprovalSettings,
        enrichers: EnricherRegistry,
        configured: Mapping[str, PlaybookSettings] | None = None,
        markings: Markings | None = None,
    ) -> None:
        self.playbooks = tuple(playbooks)
        self.approvals = approvals
        self.enrichers = enrichers
        self.configured = dict(configured or {})
        self.markings = markings or Markings(default=enrichers.settings.default_tlp)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        playbooks: Sequence[PlaybookSpec],
        *,
        enrichers: EnricherRegistry | None = None,
    ) -> PlaybookActivities:
        """From the product's settings. `enrichers` defaults to what `[enrichment]`
        describes without vendor factories; the runtime passes the one it built with
        the integrations."""
        return cls(
            playbooks,
            approvals=settings.approvals,
            enrichers=enrichers or build_enricher_registry(settings.enrichment),
            configured=settings.playbooks,
            markings=Markings(settings.source_markings(), settings.enrichment.default_tlp),
        )

    def all(self) -> list[Callable[..., Any]]:
        """Every activity of this class, for a worker."""
        return [self.match_playbooks, self.approval_policy, self.enrich_observables]

    @activity.defn(name=MATCH_PLAYBOOKS)
    async def match_playbooks(self, request: MatchRequest) -> list[PlaybookLaunch]:
        """The enabled playbooks whose triggers match the alert, in discovery order, each
        with its configured dry-run and options."""
        launches: list[PlaybookLaunch] = []
        for spec in self.playbooks:
            configured = self.configured.get(spec.name, PlaybookSettings())
            if configured.enabled and spec.matches(request.alert, request.triage):
                launches.append(
                    PlaybookLaunch(
                        name=spec.name, dry_run=configured.dry_run, options=configured.options
                    )
                )
        return launches

    @activity.defn(name=APPROVAL_POLICY)
    async def approval_policy(self, references: list[str]) -> ApprovalPolicy:
        """Who may decide (the user ids that user, `group:` and `role:` references name;
        none named: the configured deciders), and the configured approval defaults."""
        return ApprovalPolicy.from_settings(self.approvals, references)

    @activity.defn(name=ENRICH_OBSERVABLES)
    async def enrich_observables(self, request: EnrichRequest) -> EnrichResult:
        """Run the enrichers on the observables; a provider's failure is a line, not an error."""
        marking = self.markings.of_origin(request.source, request.marking)
        run = await run_enrichers(self.enrichers, request.observables, tlp=marking)
        return EnrichResult(enrichments=run.enrichments, failures=run.failures)

"""The Temporal worker: every workflow and activity of the product on one task queue."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from temporalio.client import Client
from temporalio.worker import FixedSizeSlotSupplier, Worker, WorkerTuner

from bot.channel import SlackChannel
from bot.digest_sender import SlackDigestSender
from soar.cases.activities import CorrelationActivities
from soar.containment.activities import ContainmentActivities
from soar.containment.actuators import ActuatorRegistry
from soar.containment.lookup import ActionLookup
from soar.enrichment.activities import TriageActivities
from soar.enrichment.cache import StoreBook
from soar.enrichment.inventory import Inventory, load_inventory
from soar.enrichment.markings import Markings
from soar.notifications.activities import NotificationActivities, NotificationChannel
from soar.paging.activities import PagingActivities
from soar.reports.digest_activities import DigestActivities
from soar.runtime.bytecode import compile_workflow_modules
from soar.runtime.integrations import actuators_of, enrichers_of, pagers_of, ticket_systems_of
from soar.runtime.yielding import FULL_SLOTS, WORKFLOW_TASK_POLLERS, YieldingWorkflowSlots
from soar.settings import Settings
from soar.store.activities import StoreActivities
from soar.store.db import Store
from soar.store.repository import Repository
from soar.tickets.activities import TicketActivities
from workflows.alert import AlertWorkflow
from workflows.case import CaseWorkflow
from workflows.digest import DigestWorkflow
from workflows.notifications import NotificationDeliveryWorkflow, SlackDeliveryWorkflow
from workflows.sdk.activities import PlaybookActivities
from workflows.sdk.discovery import (
    check_playbook_options,
    discover_playbooks,
    playbook_workflows,
)
from workflows.sdk.expiry import ContainmentExpiryWorkflow
from workflows.sdk.revert import ContainmentRevertWorkflow
from workflows.sdk.sandbox import workflow_runner
from workflows.sdk.spec import PlaybookSpec

PLAYBOOK_SUPPORT_WORKFLOWS: list[type] = [
    ContainmentExpiryWorkflow,
    ContainmentRevertWorkflow,
    NotificationDeliveryWorkflow,
    SlackDeliveryWorkflow,
]
"""What every playbook run needs beside its own workflow: expiry of what it contained,
its revert when a person asks, and delivery of what it still had to say when it ended."""


def playbook_run_workflows(playbooks: Sequence[PlaybookSpec]) -> list[type]:
    """The workflows a worker running `playbooks` registers, besides the product's own:
    the playbooks' own and what their runs need."""
    return [*playbook_workflows(list(playbooks)), *PLAYBOOK_SUPPORT_WORKFLOWS]


def playbook_activities(
    store: Repository, containment: ContainmentActivities, playbooks: PlaybookActivities
) -> list[Callable[..., Any]]:
    """The activities playbook runs call: the store, containment and the SDK's own. The
    product's worker and the playbook test harness both register exactly these."""
    return [
        *StoreActivities(store).all(),
        *containment.all(),
        *ActionLookup(store).all(),
        *playbooks.all(),
    ]


def product_activities(
    settings: Settings,
    store: Store,
    playbooks: Sequence[PlaybookSpec],
    actuators: ActuatorRegistry | None = None,
) -> list[Callable[..., Any]]:
    """Every activity of the product, bound to the settings, the store and the playbooks.
    `actuators` replaces the ones `[actuators]` configures (tests, embedding)."""
    inventory = load_inventory(settings.inventory_file) if settings.inventory_file else Inventory()
    enrichers = enrichers_of(settings)
    enrichers.engine.use(
        book=StoreBook(store, memory_entries=settings.enrichment.cache_entries),
        inventory=inventory,
    )

    containment = ContainmentActivities(
        actuators or actuators_of(settings),
        settings.guardrails,
        inventory,
        dry_run=settings.dry_run,
        slots=store,
    )
    notifications = NotificationActivities(notification_channels(settings, store))
    return [
        *playbook_activities(
            store,
            containment,
            PlaybookActivities.from_settings(settings, playbooks, enrichers=enrichers),
        ),
        *TriageActivities(
            inventory,
            enrichers,
            markings=Markings(settings.source_markings(), settings.enrichment.default_tlp),
        ).all(),
        *CorrelationActivities(
            settings.correlation,
            settings.temporal.task_queue,
            channels=notifications.names,
            escalation=settings.escalation,
        ).all(),
        *notifications.all(),
        *TicketActivities(ticket_systems_of(settings)).all(),
        *PagingActivities(pagers_of(settings)).all(),
        *DigestActivities(
            store.engine,
            settings.reports,
            settings.data_dir,
            SlackDigestSender.from_settings(settings, store),
        ).all(),
    ]


def notification_channels(settings: Settings, store: Store) -> list[NotificationChannel]:
    """The channels people are told through: Slack when its bot token is set."""
    slack = SlackChannel.from_settings(settings, store)
    return [slack] if slack is not None else []


def build_worker(
    client: Client,
    settings: Settings,
    store: Store,
    *,
    extra_activities: Sequence[Callable[..., Any]] = (),
    extra_workflows: Sequence[type] = (),
    playbooks: Sequence[PlaybookSpec] | None = None,
    actuators: ActuatorRegistry | None = None,
    workflow_slots: YieldingWorkflowSlots | None = None,
) -> Worker:
    """A worker for the configured task queue: the product's workflows, every discovered
    playbook (built-in and from the `soar.playbooks` entry point group, unless `playbooks`
    names them), one store. `workflow_slots` lets the intake make it yield. Brings the
    workflow modules' bytecode cache up to date first (see `soar.runtime.bytecode`)."""
    compile_workflow_modules()
    playbooks = discover_playbooks() if playbooks is None else playbooks
    check_playbook_options(playbooks, settings.playbooks)
    return Worker(
        client,
        task_queue=settings.temporal.task_queue,
        tuner=_tuner(workflow_slots),
        workflow_runner=workflow_runner(),
        max_concurrent_workflow_task_polls=WORKFLOW_TASK_POLLERS,
        max_cached_workflows=settings.temporal.max_cached_workflows,
        workflows=[
            AlertWorkflow,
            CaseWorkflow,
            DigestWorkflow,
            *playbook_run_workflows(playbooks),
            *extra_workflows,
        ],
        activities=[
            *product_activities(settings, store, playbooks, actuators),
            *extra_activities,
        ],
    )


def _tuner(workflow_slots: YieldingWorkflowSlots | None) -> WorkerTuner:
    """The SDK's default slot counts, with the workflow slots yielding when asked."""
    return WorkerTuner.create_composite(
        workflow_supplier=workflow_slots or FixedSizeSlotSupplier(FULL_SLOTS),
        activity_supplier=FixedSizeSlotSupplier(FULL_SLOTS),
        local_activity_supplier=FixedSizeSlotSupplier(FULL_SLOTS),
        nexus_supplier=FixedSizeSlotSupplier(FULL_SLOTS),
    )

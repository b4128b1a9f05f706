"""The Temporal worker: every workflow and activity of the product on one task queue."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.worker import Worker

from soar.settings import Settings
from soar.store.activities import StoreActivities
from soar.store.db import Store
from workflows.alert import AlertWorkflow

WORKFLOWS: list[type] = [AlertWorkflow]


def build_worker(client: Client, settings: Settings, store: Store) -> Worker:
    """A worker for the configured task queue, sharing one store between activities."""
    store_activities = StoreActivities(store)
    return Worker(
        client,
        task_queue=settings.temporal.task_queue,
        workflows=WORKFLOWS,
        activities=store_activities.all(),
    )

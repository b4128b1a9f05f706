"""Assemble the API's live services from settings."""

from __future__ import annotations

from temporalio.client import Client

from soar.api.deps import Services, shown_in
from soar.cases.routing import CaseRouter
from soar.ingest.delivery import AlertDelivery
from soar.ingest.spool import Spool
from soar.ingest.submit import AlertSubmitter
from soar.settings import Settings
from soar.store.db import Store
from soar.store.repository import Repository


def build_delivery(client: Client, settings: Settings, store: Repository) -> AlertDelivery:
    """The intake's delivery of alerts to their cases, as configured."""
    return AlertDelivery(
        client,
        store,
        CaseRouter(
            settings.correlation, channels=shown_in(settings), escalation=settings.escalation
        ),
        task_queue=settings.temporal.task_queue,
        rpc_timeout_seconds=settings.temporal.rpc_timeout_seconds,
    )


def build_services(client: Client, settings: Settings, store: Store) -> Services:
    spool = Spool(settings.spool_path)
    return Services(
        settings=settings,
        client=client,
        spool=spool,
        submitter=AlertSubmitter(build_delivery(client, settings, store), spool),
        store=store,
    )

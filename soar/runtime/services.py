"""Assemble the API's live services from settings."""

from __future__ import annotations

from temporalio.client import Client

from soar.api.deps import Services
from soar.ingest.spool import Spool
from soar.ingest.submit import AlertStarter, AlertSubmitter
from soar.settings import Settings
from soar.store.db import Store


def build_starter(client: Client, settings: Settings) -> AlertStarter:
    return AlertStarter(
        client,
        task_queue=settings.temporal.task_queue,
        resolve_window_seconds=settings.alert_resolve_window_seconds,
        rpc_timeout_seconds=settings.temporal.rpc_timeout_seconds,
    )


def build_services(client: Client, settings: Settings, store: Store) -> Services:
    spool = Spool(settings.spool_path)
    return Services(
        settings=settings,
        client=client,
        spool=spool,
        submitter=AlertSubmitter(build_starter(client, settings), spool),
        store=store,
    )

"""What every handler of the bot works with, assembled once per app."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient
from temporalio.client import Client

from bot.links import Links
from bot.message_store import SlackMessageStore
from bot.pacing import Pacer
from bot.people import People
from bot.permissions import Permissions
from bot.publisher import Publisher
from bot.settings import slack_settings
from soar.settings import Settings
from soar.store.db import Store

INTERACTIVE_MAX_WAIT = 30.0
"""A person's escalation notice waits for its turn in the channel rather than fail."""


@dataclass(frozen=True)
class Bot:
    """The settings, Temporal, the store, and the bot's own helpers."""

    settings: Settings
    temporal: Client
    store: Store
    people: People
    permissions: Permissions
    publisher: Publisher
    links: Links

    @classmethod
    def assemble(
        cls, settings: Settings, temporal: Client, store: Store, client: AsyncWebClient
    ) -> Bot:
        slack = slack_settings(settings)
        links = Links.from_settings(settings)
        publisher = Publisher(
            client,
            slack,
            store,
            SlackMessageStore(store.engine),
            links,
            Pacer(
                slack.post_interval_seconds,
                slack.update_interval_seconds,
                INTERACTIVE_MAX_WAIT,
                slack.updates_per_minute,
            ),
            ignore_for_similarity=settings.correlation.ignore_for_similarity,
        )
        return cls(
            settings=settings,
            temporal=temporal,
            store=store,
            people=People(slack),
            permissions=Permissions(slack, client),
            publisher=publisher,
            links=links,
        )

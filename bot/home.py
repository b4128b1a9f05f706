"""App Home: published for a person each time they open it."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.context import Bot
from bot.settings import Permission
from bot.views import HOME_ITEMS, home_view
from soar.alerts.models import Severity
from soar.approvals.models import ApprovalRequest, ApprovalState
from soar.cases.models import CaseState
from soar.containment import service
from soar.containment.models import ContainmentAction
from soar.store.views import CaseSummary

CLOSED = (CaseState.RESOLVED, CaseState.CLOSED)
SCAN = 200


def register(app: AsyncApp, bot: Bot) -> None:
    """Publish App Home when a person opens it."""

    @app.event("app_home_opened")
    async def home_opened(event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        await publish_home(bot, client, event["user"])


async def publish_home(bot: Bot, client: AsyncWebClient, user: str) -> None:
    """Render and publish one person's App Home (an empty one without `read`)."""
    if not await bot.permissions.allows(user, Permission.READ):
        view = home_view(
            pending=[], mine=[], critical=[], containments=[], people=bot.people, links=bot.links
        )
    else:
        name = bot.people.name(user)
        view = home_view(
            pending=await _waiting_for(bot, name),
            mine=_open(await bot.store.list_cases(assignee=name, limit=SCAN)),
            critical=_open(await bot.store.list_cases(severity=Severity.CRITICAL, limit=SCAN)),
            containments=await active_containments(bot),
            people=bot.people,
            links=bot.links,
            can_undo=await bot.permissions.allows(user, Permission.CONTAIN),
        )
    await client.views_publish(user_id=user, view=view)


async def _waiting_for(bot: Bot, name: str) -> list[ApprovalRequest]:
    """Pending requests this person may decide (their name, group or role named)."""
    pending = await bot.store.list_approvals(state=ApprovalState.PENDING, limit=SCAN)
    resolve = bot.settings.approvals.resolve
    return [approval for approval in pending if name in resolve(approval.deciders)]


def _open(cases: list[CaseSummary]) -> list[CaseSummary]:
    return [case for case in cases if case.state not in CLOSED]


async def active_containments(bot: Bot) -> list[ContainmentAction]:
    """Containment actions in force, soonest expiry first (one more than App Home shows,
    so it can say there are more)."""
    return await service.list_actions(bot.store, active=True, limit=HOME_ITEMS + 1)

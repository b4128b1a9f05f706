"""Server-side permission checks for everything done from Slack.

A request to the bot says who clicked (Slack signs it); this module decides whether
that person may do it, from `slack.permissions`. User-group memberships are read from
Slack (`usergroups.users.list`) and cached briefly, so removing someone from a group
takes effect within `slack.usergroup_cache_seconds`.
"""

from __future__ import annotations

import logging
import time

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import EVERYONE, SLACK_GROUP_ID, Permission, SlackSettings

log = logging.getLogger(__name__)


class Permissions:
    """Answers "may this Slack user do that?" from the configuration."""

    def __init__(self, settings: SlackSettings, client: AsyncWebClient) -> None:
        self._permissions = settings.permissions
        self._client = client
        self._ttl = settings.usergroup_cache_seconds
        self._groups: dict[str, tuple[float, frozenset[str]]] = {}

    async def allows(self, slack_user_id: str, permission: Permission) -> bool:
        """Whether the user holds `permission`, directly, through a user group, or
        because it is granted to everyone."""
        granted = self._permissions.granted(permission)
        if EVERYONE in granted or slack_user_id in granted:
            return True
        for reference in granted:
            if SLACK_GROUP_ID.match(reference) and slack_user_id in await self._members(reference):
                return True
        return False

    async def _members(self, group_id: str) -> frozenset[str]:
        cached = self._groups.get(group_id)
        now = time.monotonic()
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        try:
            response = await self._client.usergroups_users_list(usergroup=group_id)
        except SlackApiError as error:
            log.warning("cannot read user group %s: %s", group_id, error.response.get("error"))
            return frozenset()
        members = frozenset(response.get("users") or [])
        self._groups[group_id] = (now, members)
        return members


def refusal(permission: Permission) -> str:
    """What a person is told when they lack a permission."""
    return (
        f"you are not allowed to {permission.value} from Slack "
        f"(ask an administrator to add you to slack.permissions.{permission.value})"
    )

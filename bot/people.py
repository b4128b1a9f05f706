"""Who is who: Slack user ids and the product's user names.

Decisions, notes and assignments are recorded under the product's name for a person
(`slack.users` maps Slack ids to names) so the same person is the same decider in Slack,
the CLI and the API. Someone unmapped acts under their Slack user id.
"""

from __future__ import annotations

from bot.mrkdwn import mention, oneline
from bot.settings import SLACK_USER_ID, SlackSettings


class People:
    """Translates between Slack user ids and the product's user names."""

    def __init__(self, settings: SlackSettings) -> None:
        self._names = dict(settings.users)
        self._slack_ids = {name: slack_id for slack_id, name in settings.users.items()}

    def name(self, slack_user_id: str) -> str:
        """The name a Slack user acts under."""
        return self._names.get(slack_user_id, slack_user_id)

    def slack_id(self, name: str) -> str | None:
        """The Slack user id of a product user, when known."""
        if name in self._slack_ids:
            return self._slack_ids[name]
        return name if SLACK_USER_ID.match(name) else None

    def show(self, name: str) -> str:
        """A person for a message: a mention when they have a Slack id, else their name."""
        slack_id = self.slack_id(name)
        return mention(slack_id) if slack_id else oneline(name, 100)

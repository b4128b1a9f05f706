"""The Slack bot's configuration: channels, who may do what, links.

Read as the `[slack]` table of `soar.toml` or `SOAR_SLACK__*` variables
(`SOAR_SLACK__CHANNELS__CRITICAL=C0123`). The tokens themselves stay in
`SLACK_BOT_TOKEN`, `SLACK_SIGNING_SECRET` and `SLACK_APP_TOKEN` (see
:class:`soar.settings.Settings`).

Permissions name Slack user ids (`U…`, `W…`), user-group ids (`S…`) or `*` for every
member of the workspace. They are checked on the server for every action; a button only
says which request it is about, never who may press it.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple

from pydantic import BaseModel, Field, ValidationError, field_validator

from soar.alerts.models import Severity
from soar.settings import setting_problems

if TYPE_CHECKING:
    from soar.settings import Settings

EVERYONE = "*"
SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
SLACK_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")
SLACK_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")


class Permission(StrEnum):
    """What a person can do from Slack."""

    READ = "read"
    """See cases and approvals (`/soar case`, `cases`, `approvals`, App Home), add notes
    and escalate."""
    TRIAGE = "triage"
    """Assign a case and change its severity."""
    DECIDE = "decide"
    """Approve or deny a request (the playbook's validator checks again who may)."""
    CLOSE = "close"
    """Close a case with a resolution."""
    CONTAIN = "contain"
    """Ask for containment (`/soar block-ip`, `/soar isolate`), which still needs
    approval, and undo a containment in force (the Undo buttons)."""


class SlackPermissions(BaseModel):
    """Who may do what. Reading, documenting and triage are open to the workspace by
    default; deciding, closing and containing are closed until someone is named."""

    read: list[str] = Field(default_factory=lambda: [EVERYONE])
    triage: list[str] = Field(default_factory=lambda: [EVERYONE])
    decide: list[str] = Field(default_factory=list)
    close: list[str] = Field(default_factory=list)
    contain: list[str] = Field(default_factory=list)

    @field_validator("read", "triage", "decide", "close", "contain")
    @classmethod
    def _slack_references(cls, references: list[str]) -> list[str]:
        for reference in references:
            if not (
                reference == EVERYONE
                or SLACK_USER_ID.match(reference)
                or SLACK_GROUP_ID.match(reference)
            ):
                raise ValueError(
                    f"{reference!r} is not a Slack user id (U…/W…), user-group id (S…) or '*'"
                )
        return references

    def granted(self, permission: Permission) -> list[str]:
        """The references holding `permission`."""
        references: list[str] = getattr(self, permission.value)
        return references


class SlackSettings(BaseModel):
    """Where the bot posts, whom it lets act, and the links it shows.

    - `channels`: the channel id for cases of each severity; `default_channel` for the
      others. A case with neither gets no message.
    - `approvals_channel`: approval requests go there when set, else to their case's
      channel.
    - `escalation_channel`: where escalations are announced.
    - `users`: Slack user id → the product's user name, for people whose decisions,
      notes and assignments should carry their usual name (`approvals.deciders` names
      the same people). Unmapped people act under their Slack user id.
    - `web_ui_url`: the Temporal Web UI, for workflow links (the embedded server's UI
      when unset and Temporal is embedded).
    - `post_interval_seconds`: the least time between two posts in one channel (Slack
      allows about one a second). `update_interval_seconds`: the least time between two
      updates of one message, and `updates_per_minute` the budget of message updates
      (Slack allows about 50 a minute), so an alert storm edits each case message a
      few times instead of a hundred.
    """

    channels: dict[Severity, str] = Field(default_factory=dict)
    default_channel: str | None = None
    approvals_channel: str | None = None
    escalation_channel: str | None = None
    users: dict[str, str] = Field(default_factory=dict)
    permissions: SlackPermissions = Field(default_factory=SlackPermissions)
    web_ui_url: str | None = None
    post_interval_seconds: float = Field(default=1.0, ge=0)
    update_interval_seconds: float = Field(default=2.0, ge=0)
    updates_per_minute: float = Field(default=50.0, gt=0)
    usergroup_cache_seconds: float = Field(default=60.0, ge=0)

    def channel_for(self, severity: Severity) -> str | None:
        """The channel of a case of this severity, if any."""
        return self.channels.get(severity) or self.default_channel


class SlackMode(NamedTuple):
    """Which parts of Slack run, decided from the tokens here and nowhere else.

    `posts`: workflows post case and approval messages (the bot token). `http`: clicks
    and commands arrive at `POST /slack/events` (and the signing secret to verify them).
    `socket`: they arrive over Socket Mode instead or as well (and the app token)."""

    posts: bool
    http: bool
    socket: bool


def slack_mode(settings: Settings) -> SlackMode:
    """What runs of Slack with these settings (see :class:`SlackMode`)."""
    posts = settings.slack_bot_token is not None
    return SlackMode(
        posts=posts,
        http=posts and settings.slack_signing_secret is not None,
        socket=posts and settings.slack_app_token is not None,
    )


class SlackSettingsError(ValueError):
    """The `[slack]` table does not fit :class:`SlackSettings`; the message names each
    setting (`slack.<field>`) and what is wrong with it."""


def slack_settings(settings: Settings) -> SlackSettings:
    """The `[slack]` table of `settings` as the bot's settings (the core keeps it as a
    plain table, so it knows nothing of Slack)."""
    try:
        return SlackSettings.model_validate(settings.slack)
    except ValidationError as error:
        raise SlackSettingsError(setting_problems(error, "slack.")) from None

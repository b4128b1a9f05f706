"""Posting and updating the bot's messages: one message per case, per approval request,
per escalation, and one thread reply per batch of timeline entries.

Shared by the Temporal activities (the workflows' posts) and the interaction handlers
(an approval message updated right after a click). Every message has a key in the
message store; a change to something already shown is a `chat.update` of its message,
never a second post, and a change older than what is shown is dropped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.links import Links
from bot.message_store import SlackMessage, SlackMessageStore
from bot.messages import (
    Rendered,
    approval_message,
    case_message,
    escalation_message,
    person_notice,
    timeline_reply,
)
from bot.pacing import Pacer
from bot.people import People
from bot.settings import SLACK_CHANNEL_ID, SlackSettings
from soar.approvals.models import ApprovalRequest, ApprovalState
from soar.cases.models import Case
from soar.cases.similarity import similar_cases
from soar.notifications.models import (
    CaseContext,
    CaseMessageRequest,
    Delivery,
    EscalationNotice,
    PersonNotice,
    SimilarCaseNote,
    TimelineReplyRequest,
)
from soar.store.db import Store


class SlackPost(Delivery):
    """What a post did in Slack, and where the message is (`channel`, `ts`)."""

    via: str = "Slack"
    channel: str | None = None
    ts: str | None = None


class CaseMessageMissing(Exception):
    """A thread reply for a case whose message is not posted yet; try again later."""


SummaryRenderer = Callable[[str], Awaitable["Rendered | None"]]
"""The escalation summary of a case for Slack (None when it cannot be made)."""


def case_key(case_id: str) -> str:
    return f"case:{case_id}"


def approval_key(approval_id: str) -> str:
    return f"approval:{approval_id}"


def case_version(case: Case) -> str:
    """Sortable: a later snapshot of the same case has a greater version."""
    return f"{case.updated_at:%Y-%m-%dT%H:%M:%S.%f}|{case.alert_count:012d}"


def approval_version(approval: ApprovalRequest) -> str:
    """Sortable: settled after pending, more decisions after fewer."""
    settled = int(approval.state is not ApprovalState.PENDING)
    return f"{settled}|{len(approval.decisions):06d}"


class Publisher:
    """Posts and updates messages through one Slack client, remembering them in the
    message store."""

    def __init__(
        self,
        client: AsyncWebClient,
        settings: SlackSettings,
        store: Store,
        messages: SlackMessageStore,
        links: Links,
        pacer: Pacer,
        summary: SummaryRenderer | None = None,
        ignore_for_similarity: Sequence[str] = (),
    ) -> None:
        self.client = client
        self.summary = summary
        self.ignore_for_similarity = tuple(ignore_for_similarity)
        self.settings = settings
        self.store = store
        self.messages = messages
        self.links = links
        self.people = People(settings)
        self.pacer = pacer
        self._pending: dict[str, CaseMessageRequest] = {}

    async def sync_case(self, request: CaseMessageRequest) -> SlackPost:
        """Show the case as `request` has it: post its message, or update it in place.

        Concurrent calls for one case coalesce: each waits its turn and for the update
        interval, then shows the newest snapshot any of them brought, so a storm of
        changes becomes a few updates and the last change always lands.
        """
        key = case_key(request.case.id)
        self._remember_newest(key, request)
        async with self.pacer.lock(key):
            row = await self.messages.get(key)
            if row is not None and row.posted:
                await self.pacer.before_update(key, row.updated_at)
            newest = self._pending.get(key, request)
            version = case_version(newest.case)
            if row is not None and row.posted and row.version >= version:
                return SlackPost(outcome="unchanged", channel=row.channel, ts=row.ts)
            context = self._case_context(newest, row).model_copy(
                update={"similar": await self._similar(newest.case.id)}
            )
            rendered = case_message(newest.case, context, self.links, self.people)
            stored = context.model_dump(mode="json")
            if row is not None and row.posted:
                outcome = await self._update(key, row, rendered, version, stored)
            else:
                channel = self.settings.channel_for(newest.case.severity)
                outcome = await self._post_new(key, channel, rendered, version, stored)
            if self._pending.get(key) is newest:
                del self._pending[key]
            return outcome

    def _remember_newest(self, key: str, request: CaseMessageRequest) -> None:
        known = self._pending.get(key)
        if known is not None and case_version(known.case) >= case_version(request.case):
            return
        if known is not None and request.alert is None and known.alert is not None:
            request = request.model_copy(update={"alert": known.alert, "triage": known.triage})
        self._pending[key] = request

    @staticmethod
    def _case_context(request: CaseMessageRequest, row: SlackMessage | None) -> CaseContext:
        if request.alert is not None:
            return CaseContext.of(request.alert, request.triage)
        if row is not None and row.context:
            return CaseContext.model_validate(row.context)
        return CaseContext()

    async def _similar(self, case_id: str) -> list[SimilarCaseNote]:
        """The other open cases sharing an observable with the case, as it is now."""
        found = await similar_cases(self.store, case_id, self.ignore_for_similarity)
        return [
            SimilarCaseNote(
                case_id=case.id, values=[m.value for m in case.matched], shared=case.shared
            )
            for case in found
        ]

    async def reply(self, request: TimelineReplyRequest) -> SlackPost:
        """Post new timeline entries as one reply in the case's thread, once.

        A case workflow records its case before it shows it or starts a playbook, so a
        case missing from the store is a playbook running on its own (one asked for from
        Slack): it has no case message and never will, and its replies are skipped
        rather than retried forever (which would hold back its approval message)."""
        rendered = timeline_reply(request.events, self.people)
        if rendered is None:
            return SlackPost(outcome="skipped")
        ids = "\n".join(event.id for event in request.events)
        key = f"reply:{request.case_id}:{hashlib.sha256(ids.encode()).hexdigest()[:24]}"
        async with self.pacer.lock(key):
            done = await self.messages.get(key)
            if done is not None:
                return SlackPost(outcome="unchanged", channel=done.channel, ts=done.ts)
            parent = await self.messages.get(case_key(request.case_id))
            if parent is None and not await self._case_recorded(request.case_id):
                return SlackPost(outcome="skipped")
            if parent is None:
                raise CaseMessageMissing(f"case {request.case_id} has no Slack message yet")
            if not parent.posted:
                return SlackPost(outcome="skipped")
            await self.pacer.before_post(parent.channel)
            response = await self.client.chat_postMessage(
                channel=parent.channel,
                thread_ts=parent.ts,
                text=rendered.text,
                blocks=rendered.blocks,
                unfurl_links=False,
                unfurl_media=False,
            )
            ts = str(response["ts"])
            await self.messages.save(key, channel=parent.channel, ts=ts, version="1")
            return SlackPost(outcome="posted", channel=parent.channel, ts=ts)

    async def _case_recorded(self, case_id: str) -> bool:
        return await self.store.get_case_detail(case_id, alert_limit=0) is not None

    async def sync_approval(
        self, approval: ApprovalRequest, *, shown_at: tuple[str, str] | None = None
    ) -> SlackPost:
        """Show the request as it stands: post it, or update its message (the one at
        `shown_at`, a channel and timestamp, when a click names it)."""
        key = approval_key(approval.id)
        version = approval_version(approval)
        async with self.pacer.lock(key):
            row = await self.messages.get(key)
            if row is not None and row.posted and row.version >= version:
                return SlackPost(outcome="unchanged", channel=row.channel, ts=row.ts)
            rendered = approval_message(approval, self.links, self.people)
            if shown_at is not None:
                channel, ts = shown_at
                await self._chat_update(channel, ts, rendered)
                await self.messages.save(key, channel=channel, ts=ts, version=version)
                return SlackPost(outcome="updated", channel=channel, ts=ts)
            if row is not None and row.posted:
                return await self._update(key, row, rendered, version, None)
            target = await self._approval_channel(approval)
            return await self._post_new(key, target, rendered, version, None, urgent=True)

    async def _approval_channel(self, approval: ApprovalRequest) -> str | None:
        """The approvals channel, else the channel of the request's case message, else the
        channel for the case's severity, else the default channel."""
        if self.settings.approvals_channel:
            return self.settings.approvals_channel
        case_row = await self.messages.get(case_key(approval.case_id))
        if case_row is not None and case_row.posted:
            return case_row.channel
        case = await self.store.get_case_detail(approval.case_id, alert_limit=0)
        if case is not None:
            return self.settings.channel_for(case.severity)
        return self.settings.default_channel

    async def notify_escalation(self, notice: EscalationNotice) -> SlackPost:
        """Announce an escalation once per place: a policy level's channel and each of
        its people by direct message, else (a person's escalation without a policy) the
        escalation channel. Someone with no Slack id is skipped: the case thread shows
        the escalation anyway."""
        if notice.level is None:
            places = [(f"escalation:{notice.id}", self.settings.escalation_channel)]
        else:
            places = [(f"escalation:{notice.id}", notice.channel)] if notice.channel else []
            for person in notice.people:
                places.append((f"escalation:{notice.id}:{person}", self.people.slack_id(person)))

        async def render() -> Rendered:
            case = await self.store.get_case_detail(notice.case_id, alert_limit=0)
            return escalation_message(
                case,
                notice.case_id,
                notice.actor,
                notice.reason,
                notice.to,
                self.people,
                self.links,
                permalink=await self._case_permalink(notice.case_id),
                level=notice.level,
            )

        posts: list[SlackPost] = []
        for key, place in places:
            if place is None:
                continue
            posts.append(await self._post_once(key, place, render))
            if notice.level is not None:
                await self._summary_once(f"{key}:summary", posts[-1], notice.case_id)
        return posts[0] if posts else SlackPost(outcome="skipped")

    async def _summary_once(self, key: str, notice: SlackPost, case_id: str) -> None:
        """The case's escalation summary in the thread of a level's notice, once."""
        if self.summary is None or notice.channel is None or notice.ts is None:
            return
        async with self.pacer.lock(key):
            if await self.messages.get(key) is not None:
                return
            rendered = await self.summary(case_id)
            if rendered is None:
                return
            await self.pacer.before_post(notice.channel, urgent=True)
            response = await self.client.chat_postMessage(
                channel=notice.channel,
                thread_ts=notice.ts,
                text=rendered.text,
                blocks=rendered.blocks,
                unfurl_links=False,
                unfurl_media=False,
            )
            await self.messages.save(
                key, channel=notice.channel, ts=str(response["ts"]), version="1", context=None
            )

    async def notify_person(self, notice: PersonNotice) -> SlackPost:
        """Send a playbook's message to a person (direct message) or a channel, once.
        Someone with no Slack id is skipped: the case thread shows the message anyway."""
        recipient = self.people.slack_id(notice.to) or (
            notice.to if SLACK_CHANNEL_ID.match(notice.to) else None
        )
        if recipient is None:
            return SlackPost(outcome="skipped")

        async def render() -> Rendered:
            permalink = await self._case_permalink(notice.case_id)
            return person_notice(notice.text, notice.case_id, self.links, permalink)

        return await self._post_once(f"notice:{notice.id}", recipient, render)

    async def _post_once(
        self, key: str, channel: str, render: Callable[[], Awaitable[Rendered]]
    ) -> SlackPost:
        """Post the message `render` makes under `key`, unless it is posted already."""
        async with self.pacer.lock(key):
            done = await self.messages.get(key)
            if done is not None:
                return SlackPost(outcome="unchanged", channel=done.channel, ts=done.ts)
            return await self._post_new(key, channel, await render(), "1", None, urgent=True)

    async def _case_permalink(self, case_id: str) -> str | None:
        row = await self.messages.get(case_key(case_id))
        if row is None or not row.posted:
            return None
        response = await self.client.chat_getPermalink(channel=row.channel, message_ts=row.ts)
        return response.get("permalink")

    async def _post_new(
        self,
        key: str,
        channel: str | None,
        rendered: Rendered,
        version: str,
        context: dict[str, Any] | None,
        *,
        urgent: bool = False,
    ) -> SlackPost:
        if not channel:
            await self.messages.save(key, channel="", ts="", version="", context=context)
            return SlackPost(outcome="skipped")
        await self.pacer.before_post(channel, urgent=urgent)
        response = await self.client.chat_postMessage(
            channel=channel,
            text=rendered.text,
            blocks=rendered.blocks,
            unfurl_links=False,
            unfurl_media=False,
        )
        channel, ts = str(response["channel"]), str(response["ts"])
        await self.messages.save(key, channel=channel, ts=ts, version=version, context=context)
        return SlackPost(outcome="posted", channel=channel, ts=ts)

    async def _update(
        self,
        key: str,
        row: SlackMessage,
        rendered: Rendered,
        version: str,
        context: dict[str, Any] | None,
    ) -> SlackPost:
        """Edit the message; one deleted by someone in Slack is posted again."""
        try:
            await self._chat_update(row.channel, row.ts, rendered)
        except SlackApiError as error:
            if error.response.get("error") != "message_not_found":
                raise
            return await self._post_new(key, row.channel, rendered, version, context)
        await self.messages.save(
            key, channel=row.channel, ts=row.ts, version=version, context=context
        )
        return SlackPost(outcome="updated", channel=row.channel, ts=row.ts)

    async def _chat_update(self, channel: str, ts: str, rendered: Rendered) -> None:
        await self.client.chat_update(
            channel=channel, ts=ts, text=rendered.text, blocks=rendered.blocks
        )

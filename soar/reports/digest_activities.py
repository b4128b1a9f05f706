"""The `reports.send_digest` activity: a digest's figures from the store, its files in
the data directory, and its post to the management channel.

The files are `<data_dir>/digests/digest-<period>-<date>.html` and `.md`, `<date>`
being the last day the digest covers; each is written whole (a temporary file renamed
over it), so a retried activity rewrites it and a reader never sees half of one. The
post goes through a :class:`DigestPoster` (Slack's is `bot.digest_sender`), which must
post each digest once however often it is retried. Nothing is posted when no
`[reports] management_channel` is set or no poster is configured; the files are
written either way.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from soar.reports.digest import build_digest, render_digest
from soar.reports.digest_contract import (
    SEND_DIGEST_ACTIVITY,
    DigestJob,
    DigestOutcome,
    DigestPeriod,
)
from soar.reports.digest_window import scheduled_window
from soar.reports.service import ReportConfigError
from soar.reports.settings import ReportSettings
from soar.reports.slack_blocks import JsonBlock

DIGESTS_FOLDER = "digests"


@dataclass(frozen=True)
class DigestPost:
    """One digest for the management channel: the message (safe mrkdwn `text` beside
    its `blocks`) and its chart. `key` (`<period>:<date>`) names the digest, so a
    poster can tell a retry from a new one."""

    key: str
    channel: str
    text: str
    blocks: list[JsonBlock]
    chart_png: bytes
    chart_filename: str
    chart_title: str


class DigestPoster(Protocol):
    """Where management is told: posts a digest once, whatever the retries."""

    name: str

    async def post(self, post: DigestPost) -> str:
        """Post `post` (unless it is out already); what became of it, in words."""
        ...


def digest_stem(period: DigestPeriod, last_day: str) -> str:
    """`digest-daily-2026-03-29`: the name of a digest's files, without the suffix."""
    return f"digest-{period.value}-{last_day}"


class DigestActivities:
    """The digest activity over the store, the `[reports]` settings, the data
    directory and the poster (None: nothing is posted)."""

    def __init__(
        self,
        engine: AsyncEngine,
        settings: ReportSettings,
        data_dir: Path,
        poster: DigestPoster | None,
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._folder = data_dir / DIGESTS_FOLDER
        self._poster = poster

    def all(self) -> list[Callable[..., Any]]:
        """Every activity of this class, for `Worker(activities=...)`."""
        return [self.send_digest]

    @activity.defn(name=SEND_DIGEST_ACTIVITY)
    async def send_digest(self, job: DigestJob) -> DigestOutcome:
        """Compute, write and post the digest of `job.period` before the day of `job.at`."""
        window = scheduled_window(job.period, job.at, self._settings.timezone)
        digest = await build_digest(self._engine, window)
        try:
            rendered = render_digest(digest, self._settings.templates_dir)
        except ReportConfigError as error:
            raise ApplicationError(
                str(error), type="ReportConfigError", non_retryable=True
            ) from None
        stem = digest_stem(job.period, window.last_day.isoformat())
        html_file = _write(self._folder / f"{stem}.html", rendered.html)
        markdown_file = _write(self._folder / f"{stem}.md", rendered.markdown)
        posted = await self._post(
            DigestPost(
                key=f"{job.period.value}:{window.last_day.isoformat()}",
                channel=self._settings.management_channel or "",
                text=rendered.slack_text,
                blocks=rendered.slack_blocks,
                chart_png=rendered.chart_png,
                chart_filename=f"{stem}.png",
                chart_title=f"Alerts and cases opened per day: {digest.view.title}",
            )
        )
        return DigestOutcome(
            html_file=str(html_file), markdown_file=str(markdown_file), posted=posted
        )

    async def _post(self, post: DigestPost) -> str:
        if not post.channel:
            return "not posted: no [reports] management_channel is set"
        if self._poster is None:
            return "not posted: Slack is not configured (SLACK_BOT_TOKEN)"
        return await self._poster.post(post)


def _write(path: Path, text: str) -> Path:
    """Write `text` to `path` whole: a temporary file beside it, renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path

"""Escalation policies as data (`[escalation]` in `soar.toml`).

A policy says, for the cases it applies to (by severity, and optionally by rule or
source), how long the SOC has to acknowledge a case and to decide an approval, how often
to remind the case thread, and an ordered chain of levels — page the on-call, message a
person or a group, post to a channel, open a ticket — each after a delay, each firing
only while its condition holds ("not acknowledged" or "not closed"), optionally only in
business hours. The chain may run again `repeat` times.

A case records its policy when it opens (the whole policy travels in the case
workflow's state), so changing the configuration applies to cases opened afterwards.
Plain data: workflow code imports this module.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator, model_validator

from soar.alerts.models import Severity
from soar.durations import Seconds

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_REPEAT = 10
MAX_LEVELS = 20


class Condition(StrEnum):
    """While what a level fires: until someone acknowledges, or until the case closes."""

    NOT_ACKNOWLEDGED = "not_acknowledged"
    NOT_CLOSED = "not_closed"


class BusinessHours(BaseModel):
    """When a level may fire: `days` between `start` and `end` in `timezone`. A level due
    outside them is held until they next open."""

    days: list[str] = Field(default_factory=lambda: list(WEEKDAYS[:5]))
    start: time = time(8, 0)
    end: time = time(18, 0)
    timezone: str = "UTC"

    @field_validator("days")
    @classmethod
    def _known_days(cls, days: list[str]) -> list[str]:
        spelled = [day.strip().lower()[:3] for day in days]
        unknown = [day for day, short in zip(days, spelled, strict=True) if short not in WEEKDAYS]
        if unknown or not spelled:
            raise ValueError(f"days are some of {', '.join(WEEKDAYS)} (not {unknown or 'none'})")
        return spelled

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{zone!r} is not an IANA time zone such as Europe/Paris") from None
        return zone

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.start >= self.end:
            raise ValueError("start must be before end (hours within one day)")
        return self

    def next_open(self, at: datetime) -> datetime:
        """`at` when the hours are open then, else when they next open (UTC)."""
        zone = ZoneInfo(self.timezone)
        local = at.astimezone(zone)
        for offset in range(8):
            day = (local + timedelta(days=offset)).date()
            if WEEKDAYS[day.weekday()] not in self.days:
                continue
            opens = datetime.combine(day, self.start, zone)
            closes = datetime.combine(day, self.end, zone)
            if local < closes:
                return max(opens, local).astimezone(at.tzinfo)
        raise AssertionError("some day of a week is a business day")  # days is never empty


class Level(BaseModel):
    """One step of the chain: `after` seconds after the previous step (or the start of
    the chain), while `when` holds, notify every target it names."""

    name: str | None = Field(default=None, max_length=80)
    after: Seconds = 0
    when: Condition = Condition.NOT_ACKNOWLEDGED
    page: str | None = Field(default=None, description="A `[paging.<name>]` to trigger.")
    people: list[str] = Field(default_factory=list, description="Users to message directly.")
    group: str | None = Field(default=None, description="An `[escalation.groups]` name.")
    channel: str | None = Field(default=None, description="A channel to post the summary in.")
    ticket: str | None = Field(default=None, description="A `[tickets.<name>]` to open.")
    hours: BusinessHours | None = None

    @model_validator(mode="after")
    def _has_a_target(self) -> Self:
        if not self.targets():
            raise ValueError("a level names at least one of page, people, group, channel, ticket")
        return self

    def targets(self) -> list[str]:
        """What it notifies, in words (`page:oncall`, `channel:#soc-mgmt`)."""
        named = [
            ("page", self.page),
            ("group", self.group),
            ("channel", self.channel),
            ("ticket", self.ticket),
        ]
        return [f"{kind}:{value}" for kind, value in named if value] + [
            f"person:{person}" for person in self.people
        ]


class Policy(BaseModel):
    """How one kind of case escalates; see the module docstring."""

    name: str = ""
    severities: list[Severity] = Field(
        default_factory=list, description="The severities it applies to (none: every one)."
    )
    rules: list[str] = Field(default_factory=list, description="Only cases from these rules.")
    sources: list[str] = Field(default_factory=list, description="Only cases from these sources.")
    acknowledge_within: Seconds | None = None
    decide_within: Seconds | None = None
    remind_every: Seconds | None = Field(default=None, ge=10)
    repeat: int = Field(default=0, ge=0, le=MAX_REPEAT)
    levels: list[Level] = Field(default_factory=list, max_length=MAX_LEVELS)

    @model_validator(mode="after")
    def _repeatable(self) -> Self:
        if self.repeat and not sum(level.after for level in self.levels):
            raise ValueError("a chain that repeats needs some level with a delay (`after`)")
        return self

    def level_name(self, index: int) -> str:
        """The level's own name, else `level N` (1-based)."""
        return self.levels[index].name or f"level {index + 1}"

    def find_level(self, wanted: str) -> int | None:
        """The index of the level named `wanted` or numbered so (1-based)."""
        text = wanted.strip().lower()
        for index in range(len(self.levels)):
            if text in (self.level_name(index).lower(), str(index + 1)):
                return index
        return None


class EscalationSettings(BaseModel):
    """The `[escalation]` table: `policies.<name>` and the `groups` levels may message."""

    policies: dict[str, Policy] = Field(default_factory=dict)
    groups: dict[str, list[str]] = Field(
        default_factory=dict, description="Group name → the users a `group` level messages."
    )

    @model_validator(mode="after")
    def _named_and_known(self) -> Self:
        for name, policy in self.policies.items():
            policy.name = name
            for index, level in enumerate(policy.levels):
                if level.group is not None and level.group not in self.groups:
                    raise ValueError(
                        f"policies.{name}.levels.{index}.group: {level.group!r} is not in "
                        "[escalation.groups]"
                    )
        return self

    def policy_for(self, severity: Severity, rule: str, source: str) -> Policy | None:
        """The policy of a case opened with this severity by this rule and source: the
        first, in configuration order, naming the rule or source, else the first that
        applies to the severity at all."""
        fitting = [
            policy
            for policy in self.policies.values()
            if (not policy.severities or severity in policy.severities)
            and (not policy.rules or rule in policy.rules)
            and (not policy.sources or source in policy.sources)
        ]
        specific = [policy for policy in fitting if policy.rules or policy.sources]
        chosen = specific or fitting
        return chosen[0] if chosen else None

    def members(self, level: Level) -> list[str]:
        """Everyone a level messages directly: its people and its group's members."""
        group = self.groups.get(level.group, []) if level.group else []
        return list(dict.fromkeys([*level.people, *group]))

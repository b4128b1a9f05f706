"""Which case an alert belongs to: a correlation key per rule family, with a window.

The key is the first entity, in the order the matching rule lists, that the alert
carries: an external (public) source address, the host, the user. Alerts with the same
key land in the same case while it is open; a case closes itself after `window_seconds`
without a new alert (unless a decision is pending), and the next alert opens a new one.
"""

from __future__ import annotations

import fnmatch
import ipaddress
from typing import Literal

from pydantic import BaseModel, Field

from soar.alerts.models import Alert, ObservableRole, ObservableType

KeyKind = Literal["external_ip", "source_ip", "host", "user", "rule"]
DEFAULT_KEYS: tuple[KeyKind, ...] = ("external_ip", "host", "user")


class CorrelationRule(BaseModel):
    """For alerts whose source and rule name match these patterns, group by `keys`."""

    source: str = "*"
    rule: str = "*"
    keys: list[KeyKind] = Field(default_factory=lambda: list(DEFAULT_KEYS))
    window_seconds: int = Field(default=24 * 3600, ge=1)


class CorrelationSettings(BaseModel):
    """Rules are tried in order; `default` applies when none matches.

    A rule's `source` and `rule` patterns match regardless of case, as playbook triggers
    do: `sshd*` is meant to catch "SSHD brute force" too.
    """

    rules: list[CorrelationRule] = Field(default_factory=list)
    default: CorrelationRule = Field(default_factory=CorrelationRule)
    case_history_limit: int | None = Field(
        default=None,
        ge=100,
        description=(
            "Continue-as-new after this many history events; default: when Temporal suggests."
        ),
    )

    def rule_for(self, alert: Alert) -> CorrelationRule:
        """The first rule whose patterns match the alert's source and rule name (or its
        title when it names no rule), else the default."""
        rule_name = alert.rule.name or alert.title
        for rule in self.rules:
            if _matches(alert.source, rule.source) and _matches(rule_name, rule.rule):
                return rule
        return self.default


def _matches(value: str, pattern: str) -> bool:
    """fnmatch, ignoring case on both sides and on every platform."""
    return fnmatch.fnmatchcase(value.lower(), pattern.lower())


def _is_public(value: str) -> bool:
    try:
        return ipaddress.ip_address(value).is_global
    except ValueError:
        return False


def _first(alert: Alert, kind: KeyKind) -> str | None:
    for observable in alert.observables:
        match kind:
            case "external_ip" if observable.type is ObservableType.IP and _is_public(
                observable.value
            ):
                return observable.value
            case "source_ip" if observable.type is ObservableType.IP and (
                observable.role is ObservableRole.SOURCE
            ):
                return observable.value
            case "host" if observable.type is ObservableType.HOSTNAME:
                return observable.value.lower()
            case "user" if observable.type is ObservableType.USER:
                return observable.value.lower()
    if kind == "rule":
        return alert.rule.name or alert.title
    return None


def correlation_key(alert: Alert, settings: CorrelationSettings) -> tuple[str, int]:
    """The key of the case this alert belongs to, and that case's quiet window."""
    rule = settings.rule_for(alert)
    for kind in rule.keys:
        value = _first(alert, kind)
        if value:
            return f"{kind.replace('external_', '').replace('source_', '')}:{value}", (
                rule.window_seconds
            )
    return f"alert:{alert.id}", rule.window_seconds

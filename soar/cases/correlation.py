"""Which case an alert belongs to: the acting entity and the rule family, with a window.

**The default grouping** keys a case on who acts and what they do:

- the acting entity — the alert's source address (an `ip` observable in the `source`
  role) of any class, so an internal or documentation-range scanner is one case like
  a public one; else the acting user (a `user` or `email` observable in the `actor`
  role); else the host. The host under attack is context (it is on the case as an
  observable), not the key: 40 brute-force alerts from 4 attackers against one
  bastion are 4 cases, not one case keyed on the bastion;
- the **rule family**: the alert's rule name (its title when it names none),
  casefolded, with what varies between alerts of one rule taken out — the alert's own
  observable values (`Port scan from 10.0.0.5` and `Port scan from 10.0.0.6` are one
  family), UUIDs, and id-like words: numbers, hex runs of 8 or more with a digit, and
  words of a few letters ending in 3 or more digits (`sid2009358`, `INC0042`) — then
  the words that remain, joined by single spaces. `Port scan #17 (rule 5716)` and
  `PORT SCAN #18 (rule 5716)` are both `port scan rule`; `Brute force` and `Port
  scan` by one scanner are two cases. When nothing remains, the rule id normalised
  the same way stands in (`ET-SCAN-2009358` gives `et scan`); when that is empty too,
  the entity alone is the key.

The key reads `<kind>:<value>|<family>`, for example `ip:10.1.2.3|port scan`.

Alerts with the same key land in the same case while it is open; a case closes itself
after `window_seconds` without a new alert (unless a decision is pending), and the next
alert opens a new one. An alert with none of the keys is a case of its own.

**`[[correlation.rules]]`** choose other keys for the alerts whose source and rule name
match: the first entity, in the order the rule's `keys` lists, that the alert carries
(`external_ip` a public address in any role, `source_ip` a source address of any class,
`host`, `user` any user, `actor_user` an acting user or email, `rule` the rule name
itself). A rule keys on its entity alone unless it says `by_rule_family = true`; a rule
that lists no `keys` takes `external_ip, host, user` (the former default), so rules
written before mean what they meant. `[correlation.default]` replaces the default
grouping; one that lists no `keys` still groups by the acting entity and rule family.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from soar.alerts.models import Alert, ObservableRole, ObservableType

KeyKind = Literal["external_ip", "source_ip", "host", "user", "actor_user", "rule"]
RULE_KEYS: tuple[KeyKind, ...] = ("external_ip", "host", "user")
"""The keys of a configured rule that lists none (the default before the acting entity)."""
ACTING_ENTITY: tuple[KeyKind, ...] = ("source_ip", "actor_user", "host")
"""The default grouping's keys: who acts — source address, acting user, host."""

KEY_PREFIX: dict[KeyKind, str] = {
    "external_ip": "ip",
    "source_ip": "ip",
    "host": "host",
    "user": "user",
    "actor_user": "user",
    "rule": "rule",
}
"""How a kind reads in the key: an address is `ip:` whichever kind found it."""

FAMILY_MAX = 120
"""Characters of a rule family kept in the key (names are attacker-controlled)."""
MIN_STRIPPED_VALUE = 3
"""Observable values shorter than this are left in the name: they would cut words."""

_UUID = re.compile(r"[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}")
_WORD = re.compile(r"[^\W_]+")
_ID_LIKE = re.compile(r"\d+|(?=[a-f]*\d)[0-9a-f]{8,}|[^\W\d_]{1,4}\d{3,}")


class CorrelationRule(BaseModel):
    """For alerts whose source and rule name match these patterns, group by `keys`
    (and the rule family, when `by_rule_family`)."""

    source: str = "*"
    rule: str = "*"
    keys: list[KeyKind] = Field(default_factory=lambda: list(RULE_KEYS))
    by_rule_family: bool = False
    window_seconds: int = Field(default=24 * 3600, ge=1)


def default_grouping() -> CorrelationRule:
    """The acting entity with the rule family, for a day."""
    return CorrelationRule(keys=list(ACTING_ENTITY), by_rule_family=True)


class CorrelationSettings(BaseModel):
    """Rules are tried in order; `default` applies when none matches.

    A rule's `source` and `rule` patterns match regardless of case, as playbook triggers
    do: `sshd*` is meant to catch "SSHD brute force" too.
    """

    rules: list[CorrelationRule] = Field(default_factory=list)
    default: CorrelationRule = Field(default_factory=default_grouping)
    case_history_limit: int | None = Field(
        default=None,
        ge=100,
        description=(
            "Continue-as-new after this many history events; default: when Temporal suggests."
        ),
    )
    ignore_for_similarity: list[str] = Field(
        default_factory=list,
        description="Values that never make two cases similar (your own domain, a shared "
        "proxy): of any observable type, compared casefolded, addresses in canonical form "
        "(see soar.cases.similarity).",
    )

    @field_validator("ignore_for_similarity")
    @classmethod
    def _values_say_something(cls, values: list[str]) -> list[str]:
        for value in values:
            if not value.strip():
                raise ValueError("an empty value ignores nothing")
        return [value.strip() for value in values]

    @field_validator("default", mode="before")
    @classmethod
    def _default_keeps_the_acting_entity(cls, value: Any) -> Any:
        """`[correlation.default]` that tunes only the window keeps the default keys."""
        if isinstance(value, dict) and "keys" not in value:
            return {"keys": list(ACTING_ENTITY), "by_rule_family": True, **value}
        return value

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


ACTOR_ACCOUNTS = frozenset({ObservableType.USER, ObservableType.EMAIL})


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
            case "actor_user" if observable.type in ACTOR_ACCOUNTS and (
                observable.role is ObservableRole.ACTOR
            ):
                return observable.value.lower()
    if kind == "rule":
        return alert.rule.name or alert.title
    return None


def _family_words(text: str, values: set[str]) -> list[str]:
    """The words of `text` that name the rule, not this alert of it: `values` (whole
    words only, so host `web` leaves `webshell` be), UUIDs and id-like words left out."""
    folded = text.casefold()
    present = sorted((v for v in values if v in folded), key=len, reverse=True)
    if present:
        alternatives = "|".join(map(re.escape, present))
        folded = re.sub(rf"(?<![^\W_])(?:{alternatives})(?![^\W_])", " ", folded)
    folded = _UUID.sub(" ", folded)
    return [word for word in _WORD.findall(folded) if not _ID_LIKE.fullmatch(word)]


def rule_family(alert: Alert) -> str:
    """The alert's rule family (see the module's docstring); empty when it has none."""
    values = {o.value.casefold() for o in alert.observables if len(o.value) >= MIN_STRIPPED_VALUE}
    words = _family_words(alert.rule.name or alert.title, values)
    if not words and alert.rule.id:
        words = _family_words(alert.rule.id, set())
    return " ".join(words)[:FAMILY_MAX].strip()


def correlation_key(alert: Alert, settings: CorrelationSettings) -> tuple[str, int]:
    """The key of the case this alert belongs to, and that case's quiet window."""
    rule = settings.rule_for(alert)
    for kind in rule.keys:
        value = _first(alert, kind)
        if value:
            entity = f"{KEY_PREFIX[kind]}:{value}"
            family = rule_family(alert) if rule.by_rule_family else ""
            return (f"{entity}|{family}" if family else entity), rule.window_seconds
    return f"alert:{alert.id}", rule.window_seconds

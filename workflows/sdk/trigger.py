"""When a playbook runs: a trigger on the alert's source, rule, severity, observables and
triage.

Every condition of a :class:`Trigger` must hold; a playbook with several triggers runs
when any of them matches. A trigger says what *justifies* the playbook's action, not
only what the alert is about: an alert naming a host does not make the host
compromised, so the conditions reach the rule's words (and the words that rule it out),
the part an observable plays (a host acting vs. a host attacked), where an address
lives (public, private, documentation…) and the triage's verdict and score.

`where` is an escape hatch for what the fields cannot say: a pure function of the alert
and its triage.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from soar.alerts.models import Alert, Observable, ObservableRole, ObservableType, Severity
from soar.enrichment.addresses import classify
from soar.enrichment.models import AddressClass, Triage, Verdict

REGEX_PREFIX = "re:"

Condition = Callable[[Alert, Triage | None], bool]

VERDICT_RANK: dict[Verdict, int] = {
    Verdict.BENIGN: 0,
    Verdict.UNKNOWN: 1,
    Verdict.SUSPICIOUS: 2,
    Verdict.MALICIOUS: 3,
}
"""Verdicts from the least to the most alarming, for `min_verdict`: `benign` is below
`unknown`, because a provider vouched for it."""


class ObservableMatch(BaseModel):
    """One observable the alert must carry, for :attr:`Trigger.observables`.

    - `type`: the observable's type.
    - `roles`: the parts it may play (`actor`, `source`…); any when empty.
    - `address_classes`: for an `ip`, where it may live (`public`…); any when empty.
      The class is the triage's (`Triage.address_classes`) when the alert was triaged,
      else :func:`soar.enrichment.addresses.classify`'s; a value that is no address
      has no class and never matches.
    """

    model_config = ConfigDict(frozen=True)

    type: ObservableType
    roles: frozenset[ObservableRole] = frozenset()
    address_classes: frozenset[AddressClass] = frozenset()

    @model_validator(mode="after")
    def _classes_need_an_address(self) -> ObservableMatch:
        if self.address_classes and self.type is not ObservableType.IP:
            raise ValueError(f"address_classes only apply to ip observables, not {self.type}")
        return self

    def matches(self, observable: Observable, triage: Triage | None = None) -> bool:
        """Whether this one observable fits. Pure."""
        return (
            observable.type is self.type
            and (not self.roles or observable.role in self.roles)
            and (
                not self.address_classes
                or _address_class(observable, triage) in self.address_classes
            )
        )

    def describe(self) -> str:
        """`a public ip as actor or source`; roles and classes in alphabetical order."""
        classes = " or ".join(sorted(self.address_classes))
        roles = " or ".join(sorted(self.roles))
        what = f"{classes} {self.type}" if classes else str(self.type)
        return f"a {what} as {roles}" if roles else f"a {what}"


class Trigger(BaseModel):
    """The alerts a playbook answers.

    - `sources`: fnmatch patterns on the alert's source (`splunk`, `edr-*`).
    - `rule`: an fnmatch pattern on the rule name or the title, or a regular
      expression after `re:` (searched, case-insensitive): `re:sign.?in|log.?on`.
    - `unless_rule`: the same kind of pattern; when the rule name or the title matches
      it, the trigger does not (`re:brute.?force|port scan`: what the alert is about
      does not justify the action).
    - `min_severity`: the least severity that triggers.
    - `observable_types`: types the alert must all carry (an `ip` and a `hostname`).
    - `observables`: :class:`ObservableMatch` es the alert must all carry, each by one
      of its observables (a `hostname` as `actor`; a `public` `ip` as `source`).
    - `min_verdict`: the least triage verdict (benign < unknown < suspicious <
      malicious); an alert without a triage does not meet it.
    - `min_score`: the least triage score (0-100); likewise needs a triage.
    - `where`: an extra pure condition on the alert and its triage.
    - `label`: what the `sources`, `rule` and `unless_rule` patterns stand for, in a
      few words (`rule names a compromise, not an attempt`); :meth:`describe` shows it
      in their place, so that long patterns keep `soar playbooks list` readable.
    """

    model_config = ConfigDict(frozen=True)

    sources: tuple[str, ...] = ("*",)
    rule: str = "*"
    unless_rule: str | None = None
    min_severity: Severity = Severity.INFORMATIONAL
    observable_types: frozenset[ObservableType] = frozenset()
    observables: tuple[ObservableMatch, ...] = ()
    min_verdict: Verdict | None = None
    min_score: int | None = Field(default=None, ge=0, le=100)
    where: Condition | None = Field(default=None, exclude=True)
    label: str | None = None

    @field_validator("rule", "unless_rule")
    @classmethod
    def _valid_rule(cls, rule: str | None) -> str | None:
        if rule is not None and rule.startswith(REGEX_PREFIX):
            try:
                re.compile(rule.removeprefix(REGEX_PREFIX))
            except re.error as error:
                raise ValueError(
                    f"rule {rule!r} is not a valid regular expression: {error}"
                ) from error
        return rule

    def matches(self, alert: Alert, triage: Triage | None = None) -> bool:
        """Whether every condition holds for this alert. Pure."""
        return (
            self._source_matches(alert.source)
            and _rule_matches(self.rule, alert)
            and not (self.unless_rule is not None and _rule_matches(self.unless_rule, alert))
            and alert.severity.level.rank >= self.min_severity.rank
            and self.observable_types <= {o.type for o in alert.observables}
            and all(
                any(wanted.matches(o, triage) for o in alert.observables)
                for wanted in self.observables
            )
            and self._triage_matches(triage)
            and (self.where is None or self.where(alert, triage))
        )

    def describe(self) -> str:
        """The trigger in one line, for `soar playbooks list`."""
        parts = [self.label] if self.label else self._describe_patterns()
        if self.min_severity is not Severity.INFORMATIONAL:
            parts.append(f"severity ≥ {self.min_severity.value}")
        if self.observable_types:
            parts.append(f"observables {', '.join(sorted(self.observable_types))}")
        parts.extend(wanted.describe() for wanted in self.observables)
        if self.min_verdict is not None:
            parts.append(f"verdict ≥ {self.min_verdict.value}")
        if self.min_score is not None:
            parts.append(f"score ≥ {self.min_score}")
        if self.where is not None:
            parts.append(_condition_name(self.where))
        return "; ".join(parts) or "every alert"

    def _describe_patterns(self) -> list[str]:
        parts = []
        if self.sources != ("*",):
            parts.append(f"source {' or '.join(self.sources)}")
        if self.rule != "*":
            parts.append(f"rule {self.rule}")
        if self.unless_rule is not None:
            parts.append(f"not rule {self.unless_rule}")
        return parts

    def _source_matches(self, source: str) -> bool:
        source = source.lower()
        return any(fnmatch.fnmatchcase(source, pattern.lower()) for pattern in self.sources)

    def _triage_matches(self, triage: Triage | None) -> bool:
        if self.min_verdict is None and self.min_score is None:
            return True
        if triage is None:
            return False
        verdict_ok = (
            self.min_verdict is None
            or VERDICT_RANK[triage.verdict] >= VERDICT_RANK[self.min_verdict]
        )
        return verdict_ok and (self.min_score is None or triage.score >= self.min_score)


def _rule_matches(rule: str, alert: Alert) -> bool:
    """Whether the rule name or the title matches the pattern (`*` matches every alert)."""
    if rule == "*":
        return True
    texts = [text for text in (alert.rule.name, alert.title) if text]
    if rule.startswith(REGEX_PREFIX):
        pattern = re.compile(rule.removeprefix(REGEX_PREFIX), re.IGNORECASE)
        return any(pattern.search(text) for text in texts)
    rule = rule.lower()
    return any(fnmatch.fnmatchcase(text.lower(), rule) for text in texts)


def _address_class(observable: Observable, triage: Triage | None) -> AddressClass | None:
    """The triage's class of the address, else its own; None when it is no address."""
    known = triage.address_classes.get(observable.value) if triage else None
    if known is not None:
        return known
    try:
        return classify(observable.value)
    except ValueError:
        return None


def _condition_name(condition: Condition) -> str:
    """The first line of the condition's docstring, else its name."""
    doc = (condition.__doc__ or "").strip().splitlines()
    return doc[0].rstrip(".") if doc else getattr(condition, "__name__", "a condition")

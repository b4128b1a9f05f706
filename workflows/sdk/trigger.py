"""When a playbook runs: a trigger on the alert's source, rule, severity and observables.

Every condition of a :class:`Trigger` must hold; a playbook with several triggers runs
when any of them matches. `where` is an escape hatch for what patterns cannot say
("a public source address"): a pure function of the alert and its triage.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field, field_validator

from soar.alerts.models import Alert, ObservableType, Severity
from soar.enrichment.models import Triage

REGEX_PREFIX = "re:"

Condition = Callable[[Alert, Triage | None], bool]


class Trigger(BaseModel):
    """The alerts a playbook answers.

    - `sources`: fnmatch patterns on the alert's source (`splunk`, `edr-*`).
    - `rule`: an fnmatch pattern on the rule name or the title, or a regular
      expression after `re:` (searched, case-insensitive): `re:sign.?in|log.?on`.
    - `min_severity`: the least severity that triggers.
    - `observable_types`: types the alert must all carry (an `ip` and a `hostname`).
    - `where`: an extra pure condition on the alert and its triage.
    """

    model_config = ConfigDict(frozen=True)

    sources: tuple[str, ...] = ("*",)
    rule: str = "*"
    min_severity: Severity = Severity.INFORMATIONAL
    observable_types: frozenset[ObservableType] = frozenset()
    where: Condition | None = Field(default=None, exclude=True)

    @field_validator("rule")
    @classmethod
    def _valid_rule(cls, rule: str) -> str:
        if rule.startswith(REGEX_PREFIX):
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
            and self._rule_matches(alert)
            and alert.severity.level.rank >= self.min_severity.rank
            and self.observable_types <= {o.type for o in alert.observables}
            and (self.where is None or self.where(alert, triage))
        )

    def describe(self) -> str:
        """The trigger in one line, for `soar playbooks list`."""
        parts = []
        if self.sources != ("*",):
            parts.append(f"source {' or '.join(self.sources)}")
        if self.rule != "*":
            parts.append(f"rule {self.rule}")
        if self.min_severity is not Severity.INFORMATIONAL:
            parts.append(f"severity ≥ {self.min_severity.value}")
        if self.observable_types:
            parts.append(f"observables {', '.join(sorted(self.observable_types))}")
        if self.where is not None:
            parts.append(_condition_name(self.where))
        return "; ".join(parts) or "every alert"

    def _source_matches(self, source: str) -> bool:
        source = source.lower()
        return any(fnmatch.fnmatchcase(source, pattern.lower()) for pattern in self.sources)

    def _rule_matches(self, alert: Alert) -> bool:
        if self.rule == "*":
            return True
        texts = [text for text in (alert.rule.name, alert.title) if text]
        if self.rule.startswith(REGEX_PREFIX):
            pattern = re.compile(self.rule.removeprefix(REGEX_PREFIX), re.IGNORECASE)
            return any(pattern.search(text) for text in texts)
        rule = self.rule.lower()
        return any(fnmatch.fnmatchcase(text.lower(), rule) for text in texts)


def _condition_name(condition: Condition) -> str:
    """The first line of the condition's docstring, else its name."""
    doc = (condition.__doc__ or "").strip().splitlines()
    return doc[0].rstrip(".") if doc else getattr(condition, "__name__", "a condition")

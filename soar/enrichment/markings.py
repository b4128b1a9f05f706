"""Traffic Light Protocol markings: how restricted an alert's observables are.

An observable carries its alert's marking. The alert's is the most restricted of what
its source is configured with (`[sources.<name>] tlp = "amber"`) and what the alert
itself says (a SIEM's `tlp` field or `tlp:red` tag, read by the parser); when neither
says anything, `enrichment.default_tlp`. A source configured `red` therefore stays red
whatever its alerts claim, and an alert marked red is red on any source. A provider is
asked only about observables marked at or below its `max_tlp`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any

from pydantic import BeforeValidator

from soar.alerts.models import Alert
from soar.enrichment.models import Tlp

ALIASES = {"white": Tlp.CLEAR, "amber strict": Tlp.AMBER_STRICT, "amber-strict": Tlp.AMBER_STRICT}
"""TLP 1.0's WHITE is 2.0's CLEAR; AMBER+STRICT is written several ways."""


def parse_tlp(text: object) -> Tlp | None:
    """The marking a text names — `TLP:AMBER`, `amber`, `tlp:white`, `TLP: RED` — or None."""
    if not isinstance(text, str):
        return None
    word = text.strip().lower()
    if word.startswith("tlp"):
        word = word[3:].lstrip(" :=-_")
    word = word.strip()
    if word in ALIASES:
        return ALIASES[word]
    try:
        return Tlp(word)
    except ValueError:
        return None


def _setting(value: Any) -> Any:
    """A configured marking as people write it (`TLP:AMBER`, `white`), or the value as
    given, for pydantic to refuse in its own words."""
    return parse_tlp(value) or value


TlpSetting = Annotated[Tlp, BeforeValidator(_setting)]
"""A TLP marking in settings, written `amber`, `TLP:AMBER` or `tlp:white` alike."""


def most_restricted(markings: Iterable[Tlp | None]) -> Tlp | None:
    """The most restricted of the markings given, or None when none is."""
    found = [marking for marking in markings if marking is not None]
    return max(found, key=lambda marking: marking.rank) if found else None


class Markings:
    """The marking of each alert, from its source's setting, its own and the default."""

    def __init__(self, sources: Mapping[str, Tlp | None] | None = None, default: Tlp = Tlp.AMBER):
        self.sources = dict(sources or {})
        self.default = default

    def of(self, alert: Alert) -> Tlp:
        """The alert's marking (see the module docstring)."""
        return self.of_origin(alert.source, alert.marking)

    def of_origin(self, source: str | None, marking: str | None) -> Tlp:
        """The marking of what came from `source` marked `marking` (either may be unknown)."""
        own = parse_tlp(marking) if marking else None
        configured = self.sources.get(source) if source is not None else None
        return most_restricted([configured, own]) or self.default

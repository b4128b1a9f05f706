"""The contract every SIEM parser follows.

A parser takes one decoded JSON document (an NDJSON body is decoded into one document
per line) and returns one item per alert it found, in order: an :class:`Alert`, a
:class:`ParseError` for an item it could not map (the rest of a batch still goes on),
or :data:`SKIPPED` for an item that is not an alert (a Suricata `flow` line). A
document that cannot be mapped at all raises :class:`ParseError`. No input makes a
parser raise anything else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from soar.alerts.models import Alert


class ParseError(ValueError):
    """A payload, or one item of it, that the parser cannot map; names the field at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class Skip(Enum):
    """Marks an item that is not an alert and is dropped on purpose."""

    SKIPPED = "skipped"


SKIPPED = Skip.SKIPPED

Item = Alert | ParseError | Skip


@dataclass(frozen=True)
class ParseContext:
    """What a parser knows besides the payload: the configured source name and its options.

    `source` is the name the alert is filed under (a configured source may reuse a
    built-in parser under another name). `field_map` maps model fields (`id`, `title`,
    `severity`, `src_ip`, ...) to dotted paths in the payload, for the generic parser.
    """

    source: str
    field_map: Mapping[str, str] = field(default_factory=dict)


Parser = Callable[[Any, ParseContext], list[Item]]

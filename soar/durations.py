"""Durations as people write them in commands and `soar.toml`: `3600`, `90s`, `30m`,
`2h`, `1d`."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator, NonNegativeInt

_DURATION = re.compile(r"^(\d+)([smhd]?)$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def seconds_in(text: str) -> int:
    """The seconds `text` says; else :class:`ValueError` naming the forms understood."""
    match = _DURATION.match(text.strip().lower())
    if not match:
        raise ValueError(f"{text!r} is not a duration such as 3600, 30m, 2h or 1d")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def _seconds(value: object) -> object:
    return seconds_in(value) if isinstance(value, str) else value


Seconds = Annotated[NonNegativeInt, BeforeValidator(_seconds)]
"""A setting in seconds that may also be written `30m`, `2h`, `1d`."""

"""Defensive field access shared by the parsers.

Payloads are untrusted and shaped by whoever wrote the sender's template, so every
helper here accepts any JSON value and answers None (or a default) instead of raising:
dotted-path lookup over nested and dotted-flat keys, capped string coercion, time and
number parsing, severity names, and the batch loop that turns one bad item into a
:class:`ParseError` item instead of failing the whole body.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from soar.alerts.models import Severity, SeverityInfo
from soar.alerts.observables import valid_unicode
from soar.enrichment.markings import most_restricted, parse_tlp
from soar.ingest.parsers.base import Item, ParseError

TITLE_MAX = 500
DESCRIPTION_MAX = 4000
FIELD_MAX = 1024
KEY_MAX = 256
LIST_MAX = 50
PATH_MAX_PARTS = 12
ID_MAX = 64 * 1024

GO_ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)

_WHITESPACE = re.compile(r"\s+")

SEVERITY_NAMES: dict[str, Severity] = {
    "informational": Severity.INFORMATIONAL,
    "information": Severity.INFORMATIONAL,
    "info": Severity.INFORMATIONAL,
    "none": Severity.INFORMATIONAL,
    "debug": Severity.INFORMATIONAL,
    "notice": Severity.INFORMATIONAL,
    "low": Severity.LOW,
    "minor": Severity.LOW,
    "medium": Severity.MEDIUM,
    "moderate": Severity.MEDIUM,
    "warning": Severity.MEDIUM,
    "warn": Severity.MEDIUM,
    "high": Severity.HIGH,
    "major": Severity.HIGH,
    "error": Severity.HIGH,
    "err": Severity.HIGH,
    "page": Severity.HIGH,
    "severe": Severity.HIGH,
    "critical": Severity.CRITICAL,
    "crit": Severity.CRITICAL,
    "fatal": Severity.CRITICAL,
    "emergency": Severity.CRITICAL,
    "disaster": Severity.CRITICAL,
}


def get(document: Any, path: str) -> Any:
    """The value at dotted `path`, or None; tolerant of how the sender nested the keys.

    `get(d, "kibana.alert.uuid")` finds `{"kibana": {"alert": {"uuid": ..}}}`,
    `{"kibana.alert.uuid": ..}` and mixes such as `{"kibana.alert": {"uuid": ..}}`,
    preferring the longest literal key. A numeric part indexes a list (`alerts.0.id`).
    Paths of more than PATH_MAX_PARTS parts find nothing: each part may double the
    number of key splits tried, so the bound keeps a hostile document cheap.
    """
    parts = path.split(".") if path else []
    return _get(document, parts) if 0 < len(parts) <= PATH_MAX_PARTS else None


def _get(node: Any, parts: list[str]) -> Any:
    if not parts:
        return node
    if isinstance(node, list):
        head = parts[0]
        if head.isdigit() and int(head) < len(node):
            return _get(node[int(head)], parts[1:])
        return None
    if not isinstance(node, dict):
        return None
    for split in range(len(parts), 0, -1):
        key = ".".join(parts[:split])
        if key in node:
            found = _get(node[key], parts[split:])
            if found is not None:
                return found
    return None


def first(document: Any, *paths: str) -> Any:
    """The first value among `paths` that is present and not an empty string."""
    for path in paths:
        value = get(document, path)
        if value is not None and value != "":
            return value
    return None


def as_dict(value: Any) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty dict."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """`value` if it is a JSON array, else an empty list."""
    return value if isinstance(value, list) else []


def scalars(value: Any, limit: int = LIST_MAX) -> list[Any]:
    """The scalar values of a field that may hold one value or a list of them."""
    values = value[:limit] if isinstance(value, list) else [value]
    return [item for item in values if item is not None and not isinstance(item, dict | list)]


def text(value: Any, limit: int = FIELD_MAX) -> str | None:
    """A stripped, length-capped string for a string or number; None for anything else.

    Booleans, objects, arrays and empty strings are None: a title of `true` or `{}` is
    a template bug, not a title. Text longer than `limit` is cut and ends with an ellipsis.
    """
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        result = str(value).strip()
    except ValueError:
        return None
    if not result:
        return None
    return valid_unicode(result if len(result) <= limit else result[: limit - 1] + "\u2026")


def first_text(document: Any, *paths: str, limit: int = FIELD_MAX) -> str | None:
    """The first of `paths` that yields :func:`text`."""
    for path in paths:
        value = text(get(document, path), limit)
        if value:
            return value
    return None


def title_text(value: Any) -> str | None:
    """A single-line title: whitespace runs collapsed, capped at TITLE_MAX."""
    raw = text(value, TITLE_MAX * 4)
    return text(_WHITESPACE.sub(" ", raw), TITLE_MAX) if raw else None


def first_line(value: Any) -> str | None:
    """The first non-empty line of a text, as a title candidate."""
    raw = text(value, DESCRIPTION_MAX)
    if not raw:
        return None
    return title_text(next((line for line in raw.splitlines() if line.strip()), None))


def description_text(*values: Any) -> str | None:
    """Non-empty texts joined by newlines, capped at DESCRIPTION_MAX."""
    parts = [part for part in (text(value, DESCRIPTION_MAX) for value in values) if part]
    return text("\n".join(dict.fromkeys(parts)), DESCRIPTION_MAX) if parts else None


def number(value: Any) -> float | None:
    """A finite number from a JSON number or a numeric string; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return float(value) if abs(value) < 10**18 else None
    if isinstance(value, str) and len(value) <= 40:
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, float) and math.isfinite(value):
        return value
    return None


def parse_time(value: Any) -> datetime | None:
    """An aware UTC datetime from ISO-8601 text or epoch seconds/ms/us/ns; None if unusable.

    Accepts `Z`, `+00:00` and `+0000` offsets, fractions down to nanoseconds, and
    numbers or numeric strings (magnitude picks the unit). Naive times are taken as UTC.
    The Go zero time `0001-01-01T00:00:00Z` (Alertmanager's "no end") means none.
    """
    epoch = number(value)
    if epoch is not None:
        return _from_epoch(epoch)
    if not isinstance(value, str) or not 8 <= len(value) <= 64:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        parsed = parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    return None if parsed == GO_ZERO_TIME else parsed


def _from_epoch(epoch: float) -> datetime | None:
    """Seconds, milliseconds, microseconds or nanoseconds since 1970, told apart by size."""
    for scale in (1, 1e3, 1e6, 1e9):
        if abs(epoch) < 1e11 * scale:
            try:
                return datetime.fromtimestamp(epoch / scale, UTC)
            except (OverflowError, OSError, ValueError):
                return None
    return None


def first_time(document: Any, *paths: str) -> datetime | None:
    """The first of `paths` that parses as a time."""
    for path in paths:
        parsed = parse_time(get(document, path))
        if parsed:
            return parsed
    return None


def severity_from_name(value: Any, default: Severity = Severity.MEDIUM) -> SeverityInfo:
    """Map a severity word (`warning`, `High`, `info`, ...) to the model; keep the original.

    Unknown or missing values get `default` (medium: neither buried nor paging anyone),
    with the sender's value preserved as `original`.
    """
    original = text(value, KEY_MAX)
    level = SEVERITY_NAMES.get(original.lower(), default) if original else default
    return SeverityInfo(level=level, original=original)


def severity_by_thresholds(
    value: Any, thresholds: list[tuple[float, Severity]], default: Severity = Severity.MEDIUM
) -> SeverityInfo | None:
    """The level of the first `(upper bound, level)` pair whose bound exceeds `value`.

    None when `value` is not a number, so the caller can try its next source.
    """
    score = number(value)
    if score is None:
        return None
    level = next((level for bound, level in thresholds if score < bound), default)
    return SeverityInfo(level=level, original=text(value, KEY_MAX))


def canonical_hash(value: Any, field: str) -> str:
    """SHA-256 of the canonical JSON of `value` (sorted keys, ASCII), for dedup keys."""
    try:
        canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    except (ValueError, TypeError, RecursionError) as exc:
        raise ParseError("cannot be serialised canonically", field) from exc
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def native_key(*parts: Any) -> str | None:
    """Join the sender's id parts with `:`; None if any is missing. Long keys are hashed."""
    texts = [text(part, ID_MAX) for part in parts]
    if not all(texts):
        return None
    key = ":".join(t for t in texts if t)
    return key if len(key) <= KEY_MAX else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def marking(*values: Any) -> str | None:
    """The most restricted TLP marking the values name — a `tlp`/`marking` field's
    `"TLP:AMBER"`, or a list of tags of which `tlp:red` is one — as its TLP 2.0 word
    (`amber+strict`), or None when none names one."""
    found = [parse_tlp(item) for value in values for item in scalars(value)]
    tlp = most_restricted(found)
    return tlp.value if tlp is not None else None


def json_safe(value: Any) -> Any:
    """`value` for `Alert.raw`: itself if it encodes as UTF-8 JSON, else a repaired copy.

    Lone surrogates (from `\\ud800` escapes) become `?`; a value that cannot be
    serialised at all (nested beyond the recursion limit) becomes None.
    """
    try:
        encoded = json.dumps(value, ensure_ascii=False)
    except (ValueError, TypeError, RecursionError):
        return None
    try:
        encoded.encode("utf-8")
    except UnicodeEncodeError:
        try:
            return json.loads(encoded.encode("utf-8", "replace").decode("utf-8"))
        except (ValueError, RecursionError):
            return None
    return value


def require_dict(document: Any, field: str | None = None) -> dict[str, Any]:
    """`document` as a JSON object, or a ParseError naming `field`."""
    if not isinstance(document, dict):
        raise ParseError("expected a JSON object", field)
    return document


def batch(items: list[Any], build: Callable[[dict[str, Any]], Item], field: str) -> list[Item]:
    """Build one item per element; a bad element becomes a ParseError item, not a failure.

    The error's field is qualified with the element's position (`alerts[2].labels`).
    """
    results: list[Item] = []
    for index, element in enumerate(items):
        where = f"{field}[{index}]"
        if not isinstance(element, dict):
            results.append(ParseError("expected a JSON object", where))
            continue
        try:
            results.append(build(element))
        except ParseError as error:
            qualified = f"{where}.{error.field}" if error.field else where
            results.append(ParseError(error.message, qualified))
    return results

"""Fixtures for the parser tests: the SIEM sample payloads in tests/fixtures/siem and small
helpers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from soar.alerts.models import Alert
from soar.ingest.parsers import PARSERS
from soar.ingest.parsers.base import Item, ParseContext
from tests.conftest import SAMPLES


@pytest.fixture
def sample() -> Callable[[str], Any]:
    """Load a sample by file name; an `.ndjson` sample loads as a list of its lines' documents."""

    def load(name: str) -> Any:
        content = (SAMPLES / name).read_text(encoding="utf-8")
        if name.endswith(".ndjson"):
            return [json.loads(line) for line in content.splitlines() if line.strip()]
        return json.loads(content)

    return load


@pytest.fixture
def parse() -> Callable[..., list[Item]]:
    """Run the named parser on a document, under the parser's own source name."""

    def run(source: str, document: Any, field_map: dict[str, str] | None = None) -> list[Item]:
        return PARSERS[source](document, ParseContext(source=source, field_map=field_map or {}))

    return run


@pytest.fixture
def parse_one(parse: Callable[..., list[Item]]) -> Callable[..., Alert]:
    """Run a parser that must yield exactly one Alert, and return it."""

    def run(source: str, document: Any, field_map: dict[str, str] | None = None) -> Alert:
        items = parse(source, document, field_map)
        assert len(items) == 1, items
        assert isinstance(items[0], Alert), items[0]
        return items[0]

    return run


@pytest.fixture
def triples() -> Callable[[Alert], list[tuple[str, str, str]]]:
    """An alert's observables as `(type, value, role)` strings, in order."""

    def of(alert: Alert) -> list[tuple[str, str, str]]:
        return [(o.type.value, o.value, o.role.value) for o in alert.observables]

    return of

"""From decoded documents to alerts: run the parser on each, number every item, and keep
what could not be mapped apart from what could."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from soar.alerts.models import Alert
from soar.ingest.parsers.base import ParseContext, ParseError, Parser, Skip

MAX_ITEMS_PER_REQUEST = 10_000


@dataclass(frozen=True)
class Rejection:
    """One item of a request that could not be mapped, by its position in the request."""

    index: int
    error: str


@dataclass
class ParsedRequest:
    alerts: list[tuple[int, Alert]] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    skipped: int = 0


def _documents(decoded: list[Any]) -> list[Any]:
    """A top-level JSON array is a batch of documents, whatever the source."""
    flat: list[Any] = []
    for document in decoded:
        flat.extend(document if isinstance(document, list) else [document])
    return flat


def parse_request(decoded: list[Any], parser: Parser, context: ParseContext) -> ParsedRequest:
    """Parse every document. A document that cannot be mapped at all is rejected as a
    whole when it is the only one (the caller answers 422); inside a batch it is one
    rejected item among the others."""
    documents = _documents(decoded)
    if len(documents) > MAX_ITEMS_PER_REQUEST:
        raise ParseError(f"more than {MAX_ITEMS_PER_REQUEST} items in one request", "body")
    parsed = ParsedRequest()
    index = 0
    for document in documents:
        try:
            items = parser(document, context)
        except ParseError as error:
            if len(documents) == 1:
                raise
            items = [error]
        for item in items:
            if isinstance(item, Alert):
                parsed.alerts.append((index, item))
            elif isinstance(item, ParseError):
                parsed.rejected.append(Rejection(index=index, error=str(item)))
            elif isinstance(item, Skip):
                parsed.skipped += 1
            index += 1
    return parsed

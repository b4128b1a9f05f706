"""Turn a webhook body into JSON documents, or say exactly why it cannot be read."""

from __future__ import annotations

import json
from typing import Any

JSON_TYPES = {"application/json", "text/json", "text/plain"}
NDJSON_TYPES = {
    "application/x-ndjson",
    "application/ndjson",
    "application/jsonl",
    "application/x-jsonlines",
    "application/jsonlines",
}
MAX_DEPTH = 64


class BodyError(Exception):
    """The body is not what it claims to be; `status` is the HTTP answer (400 or 415)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def body_format(content_type: str | None, *, ndjson_source: bool) -> str:
    """`ndjson` when the content type says so; `auto` (JSON, else NDJSON) for a source
    whose native format is NDJSON (Suricata EVE) when its shipper labels the body
    otherwise; `json` for everything else."""
    if media_type(content_type) in NDJSON_TYPES:
        return "ndjson"
    return "auto" if ndjson_source else "json"


def check_content_type(content_type: str | None) -> None:
    """Accept JSON and NDJSON media types (and none at all); refuse the rest with 415."""
    kind = media_type(content_type)
    if kind == "" or kind in JSON_TYPES or kind in NDJSON_TYPES or kind.endswith("+json"):
        return
    raise BodyError(
        415, f"unsupported content type {kind!r}; send application/json or application/x-ndjson"
    )


def _depth_ok(value: Any, limit: int = MAX_DEPTH) -> bool:
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return False
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return True


def _loads(text: str, where: str) -> Any:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise BodyError(
            400, f"malformed JSON{where}: {error.msg} at column {error.colno}"
        ) from None
    except RecursionError:
        raise BodyError(400, f"JSON nested too deeply{where}") from None
    if not _depth_ok(document):
        raise BodyError(400, f"JSON nested deeper than {MAX_DEPTH} levels{where}")
    return document


def decode(body: bytes, *, fmt: str) -> list[Any]:
    """Decode the body into documents: one for JSON, one per non-blank line for NDJSON.

    Any undecodable line fails the whole request, so a body is never half ingested.
    """
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BodyError(400, "body is not valid UTF-8") from None
    if not text.strip():
        raise BodyError(400, "empty body")
    if fmt == "json":
        return [_loads(text, "")]
    if fmt == "auto":
        try:
            return [_loads(text, "")]
        except BodyError:
            if "\n" not in text.strip():
                raise
    return [
        _loads(line, f" on line {number}")
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip()
    ]

"""`POST /webhooks/{source}`: authenticate, decode, parse, and hand each alert to Temporal.

The checks run in the order that protects the product first: unknown source (404),
body too large (413), credentials (401), content type (415), undecodable body (400),
unmappable payload (422). Only then does anything get ingested, so a refused request
never half-ingests.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from soar.api.deps import Services, services
from soar.api.errors import error_response
from soar.ingest import auth, decode
from soar.ingest.parsers import NDJSON_SOURCES, get_parser
from soar.ingest.parsers.base import ParseContext, ParseError
from soar.ingest.pipeline import parse_request
from soar.ingest.sources import resolve_source

router = APIRouter(tags=["webhooks"])

REQUEST_BODY = {
    "required": True,
    "description": (
        "One alert, a batch (a JSON array, or the sender's own batch envelope), or for "
        "`suricata` EVE JSON lines. Authenticated as the source is configured: a bearer or "
        "custom-header token, basic auth, an HMAC-SHA256 signature of the body, or `?token=`."
    ),
    "content": {
        "application/json": {"schema": {"type": ["object", "array"]}},
        "application/x-ndjson": {"schema": {"type": "string"}},
    },
}
"""The body as OpenAPI should show it: read raw (it is authenticated byte for byte)."""


class AcceptedAlert(BaseModel):
    alert_id: str
    workflow_id: str
    duplicate: bool
    queued: bool


class RejectedItem(BaseModel):
    index: int
    error: str


class WebhookAnswer(BaseModel):
    """The answer to every accepted delivery (202)."""

    accepted: list[AcceptedAlert]
    rejected: list[RejectedItem]
    skipped: int = 0


class ErrorAnswer(BaseModel):
    error: str
    message: str


async def _read_limited(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it grows past `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/webhooks/{source}",
    status_code=202,
    response_model=WebhookAnswer,
    responses={
        400: {"model": ErrorAnswer, "description": "malformed JSON or NDJSON"},
        401: {"model": ErrorAnswer, "description": "missing or wrong credentials"},
        404: {"model": ErrorAnswer, "description": "unknown source"},
        413: {"model": ErrorAnswer, "description": "body over the size limit"},
        415: {"model": ErrorAnswer, "description": "not JSON or NDJSON"},
        422: {"model": ErrorAnswer, "description": "payload the parser cannot map"},
    },
    openapi_extra={"requestBody": REQUEST_BODY},
)
async def receive_webhook(
    source: str, request: Request, svc: Annotated[Services, Depends(services)]
) -> JSONResponse:
    """Take one SIEM delivery: a single alert, a batch, or NDJSON lines."""
    settings = svc.settings
    resolved = resolve_source(settings, source)
    if resolved is None:
        return error_response(404, "unknown_source", f"no webhook source named {source!r}")
    parser = get_parser(resolved.parser)
    if parser is None:
        return error_response(
            404, "unknown_parser", f"source {source!r} names an unknown parser {resolved.parser!r}"
        )
    body = await _read_limited(request, settings.max_body_bytes)
    if body is None:
        return error_response(
            413, "body_too_large", f"body exceeds the limit of {settings.max_body_bytes} bytes"
        )
    try:
        auth.verify(
            source=source,
            auth=resolved.auth,
            shared_token=settings.webhook_token,
            headers=request.headers,
            query=request.query_params,
            body=body,
        )
    except auth.AuthError as error:
        return error_response(401, "unauthorized", str(error))
    content_type = request.headers.get("content-type")
    try:
        decode.check_content_type(content_type)
        fmt = decode.body_format(content_type, ndjson_source=resolved.parser in NDJSON_SOURCES)
        documents = decode.decode(body, fmt=fmt)
        parsed = parse_request(
            documents, parser, ParseContext(source=source, field_map=resolved.field_map)
        )
    except decode.BodyError as error:
        code = "unsupported_media_type" if error.status == 415 else "malformed_body"
        return error_response(error.status, code, error.message)
    except ParseError as error:
        return error_response(422, "unmappable_payload", str(error), field=error.field)
    rejected = [asdict(r) for r in parsed.rejected]
    if not parsed.alerts and rejected:
        return error_response(
            422, "unmappable_payload", "no item of the payload could be mapped", rejected=rejected
        )
    accepted = await svc.submitter.submit([alert for _, alert in parsed.alerts])
    answer = WebhookAnswer(
        accepted=[AcceptedAlert(**asdict(a)) for a in accepted],
        rejected=[RejectedItem(**r) for r in rejected],
        skipped=parsed.skipped,
    )
    return JSONResponse(answer.model_dump(), status_code=202)

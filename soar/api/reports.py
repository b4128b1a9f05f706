"""Operator API for case summaries: `GET /api/cases/{id}/report?format=…&kind=…`.

The report is :func:`soar.reports.service.render_case_report`'s, the one `soar report
case` and `/soar report` show: Markdown as `text/markdown`, HTML ready for e-mail as
`text/html`, Slack as JSON `{"text", "blocks"}` ready for `chat.postMessage`. An
unknown case is 404; a format or kind not offered is 422 naming the ones that are.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, Response

from soar.api.deps import Services, require_operator, services
from soar.api.errors import error_response
from soar.reports.kinds import ReportFormat, ReportKind
from soar.reports.service import ReportConfigError, render_case_report

router = APIRouter(prefix="/api/cases", tags=["reports"], dependencies=[Depends(require_operator)])


@router.get(
    "/{case_id:path}/report",
    response_class=Response,
    responses={
        200: {
            "description": "The report in the format asked for.",
            "content": {"text/markdown": {}, "text/html": {}, "application/json": {}},
        },
        404: {"description": "No case with this id."},
        422: {"description": "A format or kind not offered."},
    },
)
async def case_report(
    case_id: str,
    svc: Annotated[Services, Depends(services)],
    format: Annotated[
        ReportFormat, Query(description="md, html (ready for e-mail) or slack (Block Kit).")
    ] = ReportFormat.MARKDOWN,
    kind: Annotated[
        ReportKind, Query(description="escalation, tactical (CAN) or executive.")
    ] = ReportKind.ESCALATION,
) -> Response:
    """The case's summary of `kind` in `format`."""
    try:
        rendered = await render_case_report(svc.store, case_id, kind, format, svc.settings)
    except ReportConfigError as error:
        return error_response(500, "report_configuration", error.message)
    if rendered.blocks is not None:
        return JSONResponse({"text": rendered.text, "blocks": rendered.blocks})
    return Response(rendered.text, media_type=format.media_type)

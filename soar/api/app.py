"""The FastAPI application: webhooks, operator API, health; documented at /openapi.json."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from soar import __version__
from soar.api import (
    actions,
    alerts,
    approvals,
    cases,
    enrichment,
    health,
    reports,
    similarity,
    webhooks,
)
from soar.api.deps import Services
from soar.api.errors import error_response
from soar.errors import (
    ConflictError,
    NotFoundError,
    OperationError,
    TimedOutError,
    UnavailableError,
)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    codes = {401: "unauthorized", 404: "not_found", 405: "method_not_allowed", 409: "conflict"}
    return error_response(exc.status_code, codes.get(exc.status_code, "error"), str(exc.detail))


OPERATION_STATUS: tuple[tuple[type[OperationError], int, str], ...] = (
    (NotFoundError, 404, "not_found"),
    (ConflictError, 409, "conflict"),
    (TimedOutError, 504, "timeout"),
    (UnavailableError, 503, "unavailable"),
)
"""How a refusal of the service layer reads over HTTP (the first class that matches)."""


async def _operation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OperationError)
    status, code = next(
        ((status, code) for kind, status, code in OPERATION_STATUS if isinstance(exc, kind)),
        (400, "refused"),
    )
    return error_response(status, code, exc.message)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    return error_response(422, "invalid_request", problems)


def create_app(svc: Services) -> FastAPI:
    """Build the app around live services (the runtime and the tests supply them)."""
    app = FastAPI(
        title="SOAR",
        version=__version__,
        description="SIEM webhooks in, durable Temporal workflows out; operator API.",
    )
    app.state.services = svc
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(OperationError, _operation_error)
    app.include_router(webhooks.router)
    app.include_router(alerts.router)
    app.include_router(reports.router)  # before cases: its `{case_id:path}` takes any path
    app.include_router(cases.router)
    app.include_router(approvals.router)
    app.include_router(actions.router)
    app.include_router(enrichment.router)
    app.include_router(similarity.router)
    app.include_router(health.router)
    return app

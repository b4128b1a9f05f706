"""Error answers: always JSON, always saying what is wrong."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse


def error_response(status: int, error: str, message: str, **extra: Any) -> JSONResponse:
    """`{"error": <code>, "message": <what is wrong>, ...}` with the given status."""
    return JSONResponse({"error": error, "message": message, **extra}, status_code=status)

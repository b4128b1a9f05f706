"""Operator API for "ignore for similarity": values shared by cases (your own domain, a
shared proxy) that never make them similar. Written once in :mod:`soar.cases.similarity`.

`GET /api/similarity/ignored` lists the configured and the marked values;
`POST /api/similarity/ignored` marks one (marking it again keeps the first mark);
`DELETE /api/similarity/ignored?value=…` takes a mark off (404 when there is none, 409
for a configured value, which only the configuration can drop).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field, field_validator

from soar.api.deps import Services, require_operator, services
from soar.cases import similarity
from soar.store.views import IgnoredObservable

router = APIRouter(
    prefix="/api/similarity", tags=["cases"], dependencies=[Depends(require_operator)]
)


class IgnoreBody(BaseModel):
    """A value to mark, who marks it and why."""

    value: str = Field(min_length=1, max_length=similarity.MAX_VALUE)
    actor: str = Field(min_length=1, max_length=200)
    reason: str | None = Field(default=None, max_length=1000)

    @field_validator("value")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a blank value ignores nothing")
        return value


@router.get("/ignored", response_model=list[IgnoredObservable])
async def list_ignored(svc: Annotated[Services, Depends(services)]) -> list[IgnoredObservable]:
    """Every value ignored for similarity: configured first, then marked."""
    return await similarity.ignored(svc.store, svc.settings.correlation.ignore_for_similarity)


@router.post("/ignored", status_code=201, response_model=IgnoredObservable)
async def ignore(
    body: IgnoreBody, svc: Annotated[Services, Depends(services)]
) -> IgnoredObservable:
    """Mark a value: it no longer makes cases similar, whatever its type."""
    return await similarity.ignore(svc.store, body.value, actor=body.actor, reason=body.reason)


@router.delete("/ignored", status_code=204, response_class=Response)
async def unignore(
    value: Annotated[str, Query(min_length=1, max_length=similarity.MAX_VALUE)],
    svc: Annotated[Services, Depends(services)],
) -> Response:
    """Take a value's mark off: it makes cases similar again."""
    configured = svc.settings.correlation.ignore_for_similarity
    await similarity.unignore(svc.store, value, configured)
    return Response(status_code=204)

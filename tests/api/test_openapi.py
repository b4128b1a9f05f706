"""What `/openapi.json` tells an integrator: the webhook's body types and the operator
API's bearer token."""

from __future__ import annotations

import httpx


async def test_openapi_documents_the_webhook_body_and_the_operator_token(
    api: httpx.AsyncClient,
) -> None:
    spec = (await api.get("/openapi.json")).json()
    webhook = spec["paths"]["/webhooks/{source}"]["post"]
    assert set(webhook["requestBody"]["content"]) == {"application/json", "application/x-ndjson"}
    assert "security" not in webhook
    schemes = spec["components"]["securitySchemes"]
    assert schemes["operator token"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "`Authorization: Bearer <SOAR_API_TOKEN>`",
    }
    cases = spec["paths"]["/api/cases"]["get"]
    assert cases["security"] == [{"operator token": []}]

"""What the routes need, held on `app.state` and reached through FastAPI dependencies."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from temporalio.client import Client

from bot.channel import SlackChannel
from soar.ingest.spool import Spool
from soar.ingest.submit import AlertSubmitter
from soar.settings import Settings
from soar.store.db import Store


@dataclass
class Services:
    """The live parts the API works with."""

    settings: Settings
    client: Client
    spool: Spool
    submitter: AlertSubmitter
    store: Store

    @property
    def channels(self) -> list[str]:
        """The notification channels the worker tells through with these settings (Slack
        when its bot token is set, as the worker decides): where what an operation
        starts shows its steps and its approval requests."""
        return shown_in(self.settings)


def shown_in(settings: Settings) -> list[str]:
    """The notification channels the worker tells through with these settings: Slack
    when its bot token is set, as the worker decides."""
    return [SlackChannel.name] if settings.slack_bot_token is not None else []


def services(request: Request) -> Services:
    """The live parts `create_app` put on the app."""
    live: Services = request.app.state.services
    return live


OPERATOR_TOKEN = HTTPBearer(
    auto_error=False,
    scheme_name="operator token",
    description="`Authorization: Bearer <SOAR_API_TOKEN>`",
)
"""Declares the operator API's bearer token in OpenAPI; the check is `require_operator`."""


def require_operator(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(OPERATOR_TOKEN)],
) -> None:
    """The operator API takes `Authorization: Bearer <SOAR_API_TOKEN>`."""
    token = services(request).settings.api_token
    if token is None:
        raise HTTPException(401, "the operator API is disabled: SOAR_API_TOKEN is not set")
    presented = credentials.credentials.strip() if credentials else ""
    if not presented or not hmac.compare_digest(
        presented.encode(), token.get_secret_value().encode()
    ):
        raise HTTPException(401, "missing or wrong bearer token for the operator API")

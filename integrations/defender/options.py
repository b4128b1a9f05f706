"""Options of a Microsoft Defender for Endpoint actuator (`type = "defender"`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from integrations.core.options import HttpOptions


class DefenderOptions(HttpOptions):
    """An Entra ID app registration with the `Machine.Isolate` and `Machine.Read.All`
    application permissions of the WindowsDefenderATP API.

    `token_url` is an option so a sovereign cloud or an emulator can serve it; `{tenant}`
    in it is replaced by `tenant_id`. `settle_seconds` bounds how long `verify` (and a
    change that finds the opposite one in flight) polls a pending machine action, every
    `poll_seconds`.
    """

    base_url: str = Field(
        default="https://api.security.microsoft.com",
        min_length=1,
        description="The Defender API root (a regional one such as "
        "https://eu.api.security.microsoft.com works too).",
    )
    tenant_id: str = Field(min_length=1, description="The Entra ID tenant (directory) id.")
    client_id: str = Field(min_length=1, description="The app registration's client id.")
    client_secret: SecretStr = Field(description="The app registration's client secret.")
    token_url: str = Field(
        default="https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token", min_length=1
    )
    scope: str = Field(
        default="https://api.securitycenter.microsoft.com/.default",
        min_length=1,
        description="The token scope: the Defender API's application permissions.",
    )
    isolation_type: Literal["Full", "Selective"] = Field(
        default="Full",
        description="Full cuts everything but the Defender service; Selective also keeps "
        "Outlook, Teams and Skype for Business working.",
    )
    requests_per_minute: float | None = Field(
        default=100, gt=0, description="Defender allows 100 calls a minute per app."
    )
    settle_seconds: float = Field(default=20.0, ge=0, le=300)
    poll_seconds: float = Field(default=2.0, gt=0, le=60)

    def tenant_token_url(self) -> str:
        """`token_url` for this tenant."""
        return self.token_url.replace("{tenant}", self.tenant_id)

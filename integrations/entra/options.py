"""The options of a Microsoft Entra ID actuator: the app registration it signs in as
(client credentials) and the endpoints, which default to Microsoft's public cloud."""

from __future__ import annotations

from pydantic import Field, SecretStr

from integrations.core.options import HttpOptions

GRAPH_URL = "https://graph.microsoft.com"
IDENTITY_PLATFORM_URL = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
"""The scope of a client-credentials token for Microsoft Graph: every application
permission granted to the app. To disable and revoke it needs User.ReadWrite.All, or
at least User.Read.All with User.EnableDisableAccount.All and User.RevokeSessions.All;
accounts holding admin roles need the app to hold a privileged role too."""


class EntraOptions(HttpOptions):
    """An app registration's `client_id` and `client_secret` in the tenant `tenant_id`.
    `token_url` is where tokens are asked for; `{tenant}` in it is replaced by the
    tenant id."""

    base_url: str = Field(default=GRAPH_URL, min_length=1, description="Microsoft Graph's root.")
    tenant_id: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9.-]*$",
        description="The directory (tenant) id, or one of its verified domain names.",
    )
    client_id: str = Field(min_length=1, description="The application (client) id.")
    client_secret: SecretStr = Field(description="A client secret of the application.")
    token_url: str = Field(
        default=IDENTITY_PLATFORM_URL,
        min_length=1,
        description="The Microsoft identity platform's token endpoint; {tenant} is the tenant id.",
    )

    def token_endpoint(self) -> str:
        """The token URL for this tenant."""
        return self.token_url.replace("{tenant}", self.tenant_id)

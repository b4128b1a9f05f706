"""The options of an Okta actuator: the org's URL and an API token."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from integrations.core.options import HttpOptions

API_ROOT = "/api/v1"


class OktaOptions(HttpOptions):
    """`base_url` is the org's URL (`https://<org>.okta.com`, or a custom domain); the
    token is sent as `Authorization: SSWS <token>`. Okta tokens act with the rights of
    the admin who created them: the admin needs to manage the users to contain."""

    base_url: str = Field(
        min_length=1, description="The Okta org's URL, e.g. https://acme.okta.com."
    )
    api_token: SecretStr = Field(description="An Okta API token (SSWS).")

    @field_validator("base_url")
    @classmethod
    def _org_root(cls, value: str) -> str:
        """The org's root: a URL pasted with `/api/v1` on its end still works."""
        return value.rstrip("/").removesuffix(API_ROOT)

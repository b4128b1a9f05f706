"""The options of a FortiGate actuator: the firewall's address, a REST API token and the
VDOM whose banned list holds the blocks."""

from __future__ import annotations

from pydantic import ConfigDict, Field, SecretStr, field_validator

from integrations.core.options import HttpOptions

API_ROOT = "/api/v2"


class FortigateOptions(HttpOptions):
    """`base_url` is the FortiGate's management address (`https://fgt.example.com`,
    with its admin port when not 443); the token of a REST API admin goes as
    `Authorization: Bearer <token>`. The admin's profile needs read-write User &
    Device access (the banned list), and the token's trusted hosts must include the
    worker."""

    model_config = ConfigDict(hide_input_in_errors=True)
    """A validation error never repeats what was given (a token)."""

    base_url: str = Field(
        min_length=1, description="The FortiGate's management URL, e.g. https://fgt.example.com."
    )
    api_token: SecretStr = Field(description="A REST API admin's token (Bearer).")
    vdom: str | None = Field(
        default=None,
        min_length=1,
        description="The VDOM to ban in (none: the token admin's default VDOM).",
    )

    @field_validator("base_url")
    @classmethod
    def _device_root(cls, value: str) -> str:
        """The device's root: a URL pasted with `/api/v2` on its end still works."""
        return value.rstrip("/").removesuffix(API_ROOT)

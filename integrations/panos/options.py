"""The options of a PAN-OS actuator: the firewall (or Panorama), how to get an API key,
and the tag whose dynamic address group the security policy blocks."""

from __future__ import annotations

from pydantic import ConfigDict, Field, SecretStr, model_validator

from integrations.core.options import HttpOptions

MAX_TAG_LENGTH = 127
"""PAN-OS tag names are at most 127 characters."""


class PanosOptions(HttpOptions):
    """`base_url` is the management address (`https://fw.example.com`). Give either
    `api_key`, or `username` and `password` of an admin whose role allows the User-ID
    and operational-command APIs, from which a key is generated (and generated again
    when PAN-OS stops accepting it). `tag` must be the match criterion of a dynamic
    address group that a deny rule uses; registering an address with it takes effect
    without a commit."""

    model_config = ConfigDict(hide_input_in_errors=True)
    """A validation error never repeats what was given (a password)."""

    base_url: str = Field(
        min_length=1, description="The firewall's management URL, e.g. https://fw.example.com."
    )
    api_key: SecretStr | None = Field(default=None, description="A PAN-OS API key.")
    username: str | None = Field(
        default=None, min_length=1, description="An admin to generate an API key for."
    )
    password: SecretStr | None = Field(default=None, description="That admin's password.")
    tag: str = Field(
        default="soar-block",
        min_length=1,
        max_length=MAX_TAG_LENGTH,
        description="The tag registered on blocked addresses (a dynamic address group's "
        "match criterion).",
    )
    vsys: str | None = Field(
        default=None,
        min_length=1,
        description="The virtual system of a multi-vsys firewall (vsys1, …); none for the default.",
    )

    @model_validator(mode="after")
    def _one_way_to_a_key(self) -> PanosOptions:
        """Exactly one way to authenticate: an API key, or a username with a password."""
        login = self.username is not None or self.password is not None
        if self.api_key is not None and login:
            raise ValueError("give api_key, or username and password, not both")
        if self.api_key is None and (self.username is None or self.password is None):
            raise ValueError("give api_key, or both username and password")
        return self

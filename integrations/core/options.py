"""Options every integration shares.

An integration's options model subclasses :class:`IntegrationOptions` (unknown keys are
an error, so a typo is caught at start-up) and, when it speaks HTTP,
:class:`HttpOptions`: a proxy, a regional endpoint or a test emulator is then one
`base_url` away. Secrets are `SecretStr`: they never print, and
:meth:`IntegrationOptions.secrets` hands them to the redactor.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class IntegrationOptions(BaseModel):
    """The base of every integration's options."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    def secrets(self) -> list[str]:
        """Every secret value of these options, for redaction."""
        found: list[str] = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr) and value.get_secret_value():
                found.append(value.get_secret_value())
        return found

    def fingerprint_fields(self) -> dict[str, object]:
        """What identifies the account these options reach (endpoint and credentials):
        an answer cached under one fingerprint is not served under another."""
        return {
            name: getattr(self, name).get_secret_value()
            if isinstance(getattr(self, name), SecretStr)
            else getattr(self, name)
            for name in type(self).model_fields
        }


class HttpOptions(IntegrationOptions):
    """Options of an integration that speaks HTTP."""

    base_url: str = Field(min_length=1, description="The API's root URL.")
    timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    verify_tls: bool = True
    ca_file: Path | None = Field(
        default=None, description="A PEM file of the CAs to trust instead of the system's."
    )
    max_connections: int = Field(default=10, ge=1, le=200)
    requests_per_minute: float | None = Field(
        default=None, gt=0, description="At most this many calls a minute (vendor default)."
    )
    max_retries: int = Field(default=3, ge=0, le=10)
    max_wait_seconds: float = Field(
        default=30.0,
        ge=0,
        description="The longest a call waits in place for the vendor (a rate limit, a "
        "retry); a longer wait becomes a retry of the activity after exactly that wait.",
    )

    def tls(self) -> ssl.SSLContext | bool:
        """What httpx verifies the server with."""
        if not self.verify_tls:
            return False
        if self.ca_file is not None:
            return ssl.create_default_context(cafile=str(self.ca_file))
        return True

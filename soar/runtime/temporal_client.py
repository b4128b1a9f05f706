"""One way to connect to Temporal for every part of the product."""

from __future__ import annotations

from temporalio.client import Client, TLSConfig
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import Runtime

from soar.settings import TemporalSettings


def tls_config(settings: TemporalSettings) -> TLSConfig | bool:
    """mTLS from cert/key files; TLS against a private CA when only `tls_ca` is set; plain
    TLS for an API key (Temporal Cloud); else none."""
    ca = settings.tls_ca.read_bytes() if settings.tls_ca else None
    if settings.tls_cert and settings.tls_key:
        return TLSConfig(
            client_cert=settings.tls_cert.read_bytes(),
            client_private_key=settings.tls_key.read_bytes(),
            server_root_ca_cert=ca,
        )
    if ca is not None:
        return TLSConfig(server_root_ca_cert=ca)
    return settings.api_key is not None


async def connect(
    settings: TemporalSettings, *, lazy: bool = False, runtime: Runtime | None = None
) -> Client:
    """Connect with the pydantic data converter. `lazy` defers the dial to the first call,
    so the API can start (and spool) while Temporal is down. `runtime` (default: the
    SDK's) is the one a worker built on this client reports its metrics through."""
    return await Client.connect(
        settings.target(),
        namespace=settings.namespace,
        data_converter=pydantic_data_converter,
        tls=tls_config(settings),
        api_key=settings.api_key.get_secret_value() if settings.api_key else None,
        lazy=lazy,
        runtime=runtime,
    )

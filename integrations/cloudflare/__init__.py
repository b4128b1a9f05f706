"""Cloudflare: block IPv4 and IPv6 addresses and ranges with IP Access rules in one
zone, noted with the case id, and read them back."""

from __future__ import annotations

from integrations.cloudflare.actuator import CloudflareActuator
from integrations.cloudflare.client import check
from integrations.cloudflare.options import CloudflareOptions
from integrations.core.integration import Integration

INTEGRATION = Integration(
    vendor="Cloudflare",
    handles="blocks IPv4/IPv6 addresses and /16, /24 (IPv6 /32, /48, /64) ranges with "
    "IP Access rules in one zone",
    options=CloudflareOptions,
    actuator=CloudflareActuator,
    check=check,
)

__all__ = ["INTEGRATION", "CloudflareActuator", "CloudflareOptions"]

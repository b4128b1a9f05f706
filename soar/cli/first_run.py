"""On first run, write a config with fresh random tokens, so the product is secure from
its first request and the operator has URLs to paste."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import tomli_w

from soar.settings import Settings

HEADER = (
    "# Written by `soar up` on first run. Keep this file private: it holds secrets.\n"
    "# Every setting is described in the README.\n"
)


def write_initial_config(path: Path) -> bool:
    """Create `path` with random webhook and API tokens; False when it already exists."""
    if path.exists():
        return False
    document = {
        "webhook_token": secrets.token_urlsafe(32),
        "api_token": secrets.token_urlsafe(32),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(HEADER + tomli_w.dumps(document))
    return True


def webhook_urls(settings: Settings) -> dict[str, str]:
    """Ready-to-paste URL per built-in source, with the shared token in the query string
    (the only form every sender, Splunk included, can use)."""
    from soar.ingest.sources import all_sources

    token = settings.webhook_token.get_secret_value() if settings.webhook_token else None
    base = settings.base_url()
    return {
        source.name: f"{base}/webhooks/{source.name}" + (f"?token={token}" if token else "")
        for source in all_sources(settings)
    }

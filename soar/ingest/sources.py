"""Which webhook sources exist, which parser each uses, and how each authenticates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from soar.ingest.parsers import PARSERS
from soar.settings import Settings, SourceAuth


@dataclass(frozen=True)
class ResolvedSource:
    name: str
    parser: str
    auth: SourceAuth | None
    field_map: Mapping[str, str] = field(default_factory=dict)


def resolve_source(settings: Settings, name: str) -> ResolvedSource | None:
    """A built-in parser name, or a source configured under `[sources.<name>]`."""
    configured = settings.sources.get(name)
    if configured is None:
        if name not in PARSERS:
            return None
        return ResolvedSource(name=name, parser=name, auth=None)
    return ResolvedSource(
        name=name,
        parser=configured.parser or name,
        auth=configured.auth_config(),
        field_map=configured.field_map,
    )


def all_sources(settings: Settings) -> list[ResolvedSource]:
    """Every source the API answers for: built-ins first, then the configured extras."""
    names = list(PARSERS) + sorted(set(settings.sources) - set(PARSERS))
    return [source for name in names if (source := resolve_source(settings, name))]


def describe_auth(source: ResolvedSource, *, shared_token: bool) -> str:
    """How a sender authenticates to this source, in words (never the secret)."""
    own = {
        None: "",
        "none": 'no authentication (auth = "none")',
        "bearer": "Authorization: Bearer <token>",
        "query": f"?{source.auth.query_param if source.auth else 'token'}=<token>",
        "basic": "HTTP basic auth",
    }
    auth = source.auth
    kind = auth.type if auth else None
    if auth is not None and kind == "header":
        described = f"header {auth.header}: <token>"
    elif auth is not None and kind == "hmac":
        extra = f" with timestamp header {auth.timestamp_header}" if auth.timestamp_header else ""
        described = f"HMAC-SHA256 of the body in {auth.signature_header}{extra}"
    else:
        described = own[kind]
    parts = [
        p
        for p in (described, "shared webhook token (Bearer or ?token=)" if shared_token else "")
        if p
    ]
    return " or ".join(parts) if parts else "refused: no authentication configured"

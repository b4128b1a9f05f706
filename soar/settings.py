"""Settings: a TOML file (`SOAR_CONFIG`, default `./soar.toml` when present) and `SOAR_*`
environment variables, which win over the file. Nested keys use `__` in variable names
(`SOAR_TEMPORAL__ADDRESS`). Secrets are `SecretStr`: they never print or log.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from soar.approvals.models import ApprovalSettings
from soar.cases.activities import PlaybookSettings
from soar.cases.correlation import CorrelationSettings
from soar.containment.actuators import ActuatorSettings
from soar.enrichment.markings import TlpSetting
from soar.enrichment.models import Tlp
from soar.enrichment.settings import EnrichmentSettings
from soar.escalation.models import EscalationSettings
from soar.guardrails.settings import GuardrailSettings
from soar.paging.pagers import PagerSettings
from soar.reports.settings import ReportSettings
from soar.tickets.systems import TicketSystemSettings

DEFAULT_CONFIG_FILE = Path("soar.toml")
MIB = 1024 * 1024


class TemporalSettings(BaseModel):
    """Where Temporal is. No `address` means: run the embedded dev server."""

    address: str | None = None
    namespace: str = "default"
    task_queue: str = "soar"
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_ca: Path | None = None
    api_key: SecretStr | None = None
    port: int = 7233
    ui_port: int = 8233
    sqlite_pragmas: dict[str, str] = Field(
        default_factory=lambda: {
            "journal_mode": "wal",
            "synchronous": "normal",
            "wal_autocheckpoint": "10000",
        },
        description=(
            "SQLite pragmas of the embedded server. WAL with synchronous=normal survives a "
            "crash of the process but may lose the last commits on power loss; "
            "synchronous=full is safe against that and much slower. A checkpoint every "
            "10,000 pages instead of 1,000 writes each changed page back less often (the "
            "WAL file grows to about 40 MiB)."
        ),
    )
    rpc_timeout_seconds: float = 5.0
    max_cached_workflows: int = Field(
        default=250,
        ge=0,
        description=(
            "Workflows a worker keeps in memory between their tasks, least recently used "
            "first out. One evicted is replayed from its history when it next has work. "
            "Measured with 1,000 cases waiting for a decision: 784 MiB of worker RSS at "
            "1,000 (the SDK's default), 383 MiB at 250; a 10,000-alert storm on 50 cases "
            "ran as fast at 250."
        ),
    )

    @model_validator(mode="after")
    def _tls_files_together(self) -> TemporalSettings:
        """A client certificate without its key (or the reverse) is a mistake, not a wish
        to connect in plaintext."""
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("temporal.tls_cert and temporal.tls_key must be set together")
        return self

    @property
    def embedded(self) -> bool:
        return self.address is None

    def target(self) -> str:
        return self.address or f"127.0.0.1:{self.port}"


AuthKind = Literal["none", "bearer", "header", "basic", "hmac", "query"]


class SourceAuth(BaseModel):
    """How a sender proves itself. `type` picks which of the other fields apply."""

    type: AuthKind
    token: SecretStr | None = None
    header: str | None = None
    username: str | None = None
    password: SecretStr | None = None
    secret: SecretStr | None = None
    signature_header: str = "X-Grafana-Alerting-Signature"
    timestamp_header: str | None = None
    max_skew_seconds: int = 300
    query_param: str = "token"

    @model_validator(mode="after")
    def _has_what_it_needs(self) -> SourceAuth:
        needs: dict[str, tuple[str, ...]] = {
            "bearer": ("token",),
            "header": ("token", "header"),
            "basic": ("username", "password"),
            "hmac": ("secret",),
            "query": ("token",),
            "none": (),
        }
        missing = [name for name in needs[self.type] if getattr(self, name) in (None, "")]
        if missing:
            raise ValueError(f"auth type {self.type!r} needs {', '.join(missing)}")
        return self


class SourceSettings(BaseModel):
    """One webhook source. `parser` lets a custom source name reuse a built-in parser;
    `tlp` marks everything it sends (an alert's own marking may only restrict it more)."""

    parser: str | None = None
    auth: SourceAuth | Literal["none"] | None = None
    field_map: dict[str, str] = Field(default_factory=dict)
    tlp: TlpSetting | None = Field(
        default=None,
        description="The TLP marking of this source's alerts (default: "
        "enrichment.default_tlp); no provider above it is asked about their observables.",
    )

    def auth_config(self) -> SourceAuth | None:
        if self.auth == "none":
            return SourceAuth(type="none")
        return self.auth if isinstance(self.auth, SourceAuth) else None


class Settings(BaseSettings):
    """Every setting of the product; see the README for each one."""

    model_config = SettingsConfigDict(
        env_prefix="SOAR_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    data_dir: Path = Path(".soar")
    api_host: str = "127.0.0.1"
    api_port: int = 8080
    public_url: str | None = None
    api_token: SecretStr | None = None
    webhook_token: SecretStr | None = None
    max_body_bytes: int = MIB
    database_url: str | None = None
    temporal: TemporalSettings = Field(default_factory=TemporalSettings)
    sources: dict[str, SourceSettings] = Field(default_factory=dict)
    slack_bot_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "SOAR_SLACK_BOT_TOKEN")
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "SOAR_SLACK_SIGNING_SECRET"),
    )
    slack_app_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "SOAR_SLACK_APP_TOKEN")
    )
    slack_api_url: str | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_API_URL", "SOAR_SLACK_API_URL")
    )
    inventory_file: Path | None = None
    guardrails: GuardrailSettings = Field(default_factory=GuardrailSettings)
    dry_run: bool = False
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="WARNING", description="What the processes log (INFO adds what they decide)."
    )
    ingest_first: bool = Field(
        default=True,
        description=(
            "While the webhook endpoint is saturated, `soar up` holds its worker to "
            "about one workflow task at a time, so alerts are accepted at full speed and "
            "processed right after the burst."
        ),
    )
    actuators: dict[str, ActuatorSettings] = Field(default_factory=dict)
    enrichment: EnrichmentSettings = Field(default_factory=EnrichmentSettings)
    tickets: dict[str, TicketSystemSettings] = Field(
        default_factory=dict,
        description="`[tickets.<name>]`: ticket systems (Jira, ServiceNow, TheHive).",
    )
    paging: dict[str, PagerSettings] = Field(
        default_factory=dict, description="`[paging.<name>]`: pagers (PagerDuty)."
    )
    approvals: ApprovalSettings = Field(default_factory=ApprovalSettings)
    correlation: CorrelationSettings = Field(default_factory=CorrelationSettings)
    playbooks: dict[str, PlaybookSettings] = Field(default_factory=dict)
    reports: ReportSettings = Field(default_factory=ReportSettings)
    escalation: EscalationSettings = Field(default_factory=EscalationSettings)
    slack: dict[str, Any] = Field(
        default_factory=dict,
        description="The `[slack]` table: read and checked by the bot (bot.settings).",
    )

    @model_validator(mode="after")
    def _escalation_targets_configured(self) -> Settings:
        """Every pager and ticket system a level names is configured."""
        configured = {"page": self.paging, "ticket": self.tickets}
        for name, policy in self.escalation.policies.items():
            for index, level in enumerate(policy.levels):
                for kind, wanted in (("page", level.page), ("ticket", level.ticket)):
                    section = "paging" if kind == "page" else "tickets"
                    if wanted is not None and wanted not in configured[kind]:
                        raise ValueError(
                            f"escalation.policies.{name}.levels.{index}.{kind}: {wanted!r} is "
                            f"not configured in [{section}]"
                        )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_file = config_path()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if config_file.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)

    @property
    def spool_path(self) -> Path:
        return self.data_dir / "spool.sqlite3"

    @property
    def temporal_db_path(self) -> Path:
        return self.data_dir / "temporal.sqlite3"

    def source_markings(self) -> dict[str, Tlp | None]:
        """Each configured source's TLP marking (`[sources.<name>] tlp`)."""
        return {name: source.tlp for name, source in self.sources.items()}

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{(self.data_dir / 'soar.sqlite3')}"

    def base_url(self) -> str:
        return (self.public_url or f"http://{self.api_host}:{self.api_port}").rstrip("/")


def config_path() -> Path:
    """The TOML file to read: `SOAR_CONFIG`, else `./soar.toml`."""
    return Path(os.environ.get("SOAR_CONFIG", DEFAULT_CONFIG_FILE))


def load_settings(**overrides: object) -> Settings:
    """Read the file and the environment; keyword overrides win (used by the CLI flags)."""
    return Settings(**overrides)  # type: ignore[arg-type]


def setting_problems(error: ValidationError, prefix: str = "") -> str:
    """Each problem as `<setting>: <what is wrong>`, joined by "; ". The values given are
    left out: a setting may be a secret."""
    return "; ".join(
        f"{prefix}{'.'.join(str(part) for part in problem['loc']) or 'settings'}: {problem['msg']}"
        for problem in error.errors()
    )

"""Where the bot's messages link to: the operator API and the Temporal Web UI."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from bot.settings import slack_settings
from soar.settings import Settings


@dataclass(frozen=True)
class Links:
    """URLs built from the product's settings (never from alert content)."""

    api_base: str
    web_ui: str | None
    namespace: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Links:
        """The public API URL, and the Web UI configured or of the embedded server."""
        web_ui = slack_settings(settings).web_ui_url
        if web_ui is None and settings.temporal.embedded:
            web_ui = f"http://127.0.0.1:{settings.temporal.ui_port}"
        return cls(
            api_base=settings.base_url(),
            web_ui=web_ui.rstrip("/") if web_ui else None,
            namespace=settings.temporal.namespace,
        )

    def case(self, case_id: str) -> str:
        return f"{self.api_base}/api/cases/{quote(case_id, safe='')}"

    def approval(self, approval_id: str) -> str:
        return f"{self.api_base}/api/approvals/{quote(approval_id, safe='')}"

    def workflow(self, workflow_id: str) -> str | None:
        if self.web_ui is None:
            return None
        namespace = quote(self.namespace, safe="")
        return f"{self.web_ui}/namespaces/{namespace}/workflows/{quote(workflow_id, safe='')}"

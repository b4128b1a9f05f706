"""What the SDK knows about one playbook: its name, triggers, code and workflow class."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from soar.alerts.models import Alert
    from soar.enrichment.models import Triage
    from soar.settings import setting_problems
    from workflows.sdk.models import playbook_workflow_type
    from workflows.sdk.trigger import Trigger

if TYPE_CHECKING:
    from workflows.sdk.context import PlaybookContext


class PlaybookOptionsError(ValueError):
    """A playbook's configured options do not fit its options model; the message names
    each setting (`playbooks.<name>.options.<field>`) and what is wrong with it."""


PlaybookFunction = Callable[["PlaybookContext"], Awaitable[None]]
"""A playbook written as `async def fn(ctx: PlaybookContext) -> None`."""


@dataclass(frozen=True)
class PlaybookSpec:
    """A registered playbook.

    `target` is the decorated function, or the decorated class (instantiated without
    arguments for each run, then `await instance.run(ctx)`). `workflow` is the Temporal
    workflow class generated for it. `module` is where it was defined and `source` how
    it was found (a built-in module or an installed package's entry point).
    """

    name: str
    description: str
    triggers: tuple[Trigger, ...]
    target: PlaybookFunction | type[Any]
    workflow: type[Any]
    module: str
    source: str
    dry_run: bool = False
    options: type[BaseModel] | None = None

    def validate_options(self, options: dict[str, Any]) -> BaseModel | None:
        """The configured `options` as the playbook's options model (None when it
        declares none); raises :class:`PlaybookOptionsError` naming each bad setting."""
        if self.options is None:
            return None
        try:
            return self.options.model_validate(options)
        except ValidationError as error:
            problems = setting_problems(error, f"playbooks.{self.name}.options.")
            raise PlaybookOptionsError(problems) from None

    def describe_options(self) -> str:
        """`name: type = default` for each option, for `soar playbooks list`."""
        if self.options is None:
            return ""
        return ", ".join(
            f"{name} = {field.default!r}" if not field.is_required() else f"{name} (required)"
            for name, field in self.options.model_fields.items()
        )

    @property
    def workflow_type(self) -> str:
        """The Temporal workflow type the case starts: `playbook:<name>`."""
        return playbook_workflow_type(self.name)

    def matches(self, alert: Alert, triage: Triage | None = None) -> bool:
        """Whether any trigger matches the alert."""
        return any(trigger.matches(alert, triage) for trigger in self.triggers)

    def describe_triggers(self) -> str:
        return " | ".join(trigger.describe() for trigger in self.triggers)

    async def invoke(self, ctx: PlaybookContext) -> None:
        """Run the playbook's own code with its context."""
        if isinstance(self.target, type):
            await self.target().run(ctx)
        else:
            await self.target(ctx)

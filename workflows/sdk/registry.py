"""The `@playbook` decorator and the registry of the playbooks it made.

The decorator turns an `async def fn(ctx)` or a class with `async def run(self, ctx)`
into a Temporal workflow class named `playbook:<name>` and returns that class, which
takes the decorated object's place in its module — that is where the worker's sandbox
finds it again. The playbook's own code stays reachable as `spec_of(obj).target`.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.sdk.trigger import Trigger

from workflows.sdk.spec import PlaybookSpec
from workflows.sdk.workflow import playbook_workflow_class

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")

_registry: dict[str, PlaybookSpec] = {}


class PlaybookDefinitionError(ValueError):
    """A playbook that cannot be registered: a bad name, a clash, or the wrong shape."""


def playbook(
    *,
    name: str,
    trigger: Trigger | Sequence[Trigger],
    description: str | None = None,
    dry_run: bool = False,
    options: type[BaseModel] | None = None,
) -> Callable[[Any], type[Any]]:
    """Register a playbook: run it when any of its triggers matches an alert.

    `description` defaults to the first line of the docstring. `dry_run=True` keeps
    this playbook in dry-run whatever the global setting says. `options` is a pydantic
    model of the playbook's settings (`[playbooks.<name>] options = {...}`): checked
    when the worker starts, and read in the playbook as `ctx.options`, typed when the
    context is annotated `PlaybookContext[ThatModel]`.
    """
    if not NAME_PATTERN.match(name):
        raise PlaybookDefinitionError(
            f"playbook name {name!r} must be lower-case letters, digits, '_', '.' or '-'"
        )
    triggers = (trigger,) if isinstance(trigger, Trigger) else tuple(trigger)
    if not triggers:
        raise PlaybookDefinitionError(f"playbook {name!r} needs at least one trigger")

    def register(target: Any) -> type[Any]:
        _check_shape(name, target)
        summary = description or _first_line(target.__doc__) or name
        generated = playbook_workflow_class(
            name, target.__name__, target.__module__, target.__doc__ or summary
        )
        spec = PlaybookSpec(
            name=name,
            description=summary,
            triggers=triggers,
            target=target,
            workflow=generated,
            module=target.__module__,
            source=f"module {target.__module__}",
            dry_run=dry_run,
            options=options,
        )
        generated.__playbook__ = spec
        _add(spec, target)
        return generated

    return register


def spec_of(obj: Any) -> PlaybookSpec:
    """The spec of a decorated playbook (the class `@playbook` returned)."""
    spec = getattr(obj, "__playbook__", None)
    if not isinstance(spec, PlaybookSpec):
        raise PlaybookDefinitionError(f"{obj!r} is not a playbook made by @playbook")
    return spec


def is_playbook(obj: Any) -> bool:
    return isinstance(getattr(obj, "__playbook__", None), PlaybookSpec)


def registered_playbooks(module: str | None = None) -> list[PlaybookSpec]:
    """Every playbook registered in this process, or those defined in one module."""
    return [spec for spec in _registry.values() if module is None or spec.module == module]


def _add(spec: PlaybookSpec, target: Any) -> None:
    """Register in the worker's process only: the sandbox re-imports playbook modules for
    every run, and those copies must not replace what discovery found."""
    if workflow.unsafe.in_sandbox():
        return
    existing = _registry.get(spec.name)
    if existing is not None and _origin(existing.target) != _origin(target):
        raise PlaybookDefinitionError(
            f"playbook {spec.name!r} is defined twice: "
            f"{_origin(existing.target)} and {_origin(target)}"
        )
    _registry[spec.name] = spec


def _origin(target: Any) -> str:
    return f"{target.__module__}.{target.__qualname__}"


def _check_shape(name: str, target: Any) -> None:
    if isinstance(target, type):
        run = getattr(target, "run", None)
        if not inspect.iscoroutinefunction(run):
            raise PlaybookDefinitionError(
                f"playbook {name!r}: class {target.__name__} needs `async def run(self, ctx)`"
            )
    elif not inspect.iscoroutinefunction(target):
        raise PlaybookDefinitionError(
            f"playbook {name!r}: decorate an `async def fn(ctx)` or a class with `async def run`"
        )
    if "<locals>" in target.__qualname__:
        raise PlaybookDefinitionError(
            f"playbook {name!r} must be defined at module level, where the worker can import it"
        )


def _first_line(doc: str | None) -> str:
    lines = (doc or "").strip().splitlines()
    return lines[0].strip() if lines else ""

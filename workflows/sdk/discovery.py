"""Finding the installed playbooks: the built-ins and those of installed packages.

Built-ins are every module of `workflows/playbooks/`. A package adds its own through
the entry point group `soar.playbooks`; an entry point names a module (every playbook
in it is taken) or one decorated object::

    [project.entry-points."soar.playbooks"]
    acme = "acme_soar.playbooks"                      # a module
    phishing = "acme_soar.phishing:phishing_triage"   # one playbook

A broken entry point or two playbooks with the same name stop discovery with an error
naming both places: a worker must not start with a playbook silently missing.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
from collections.abc import Mapping, Sequence
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from soar.cases.activities import PlaybookSettings
from workflows.sdk.registry import PlaybookDefinitionError, registered_playbooks, spec_of
from workflows.sdk.spec import PlaybookOptionsError, PlaybookSpec

BUILT_IN_PACKAGE = "workflows.playbooks"
ENTRY_POINT_GROUP = "soar.playbooks"


def discover_playbooks(
    *, package: str = BUILT_IN_PACKAGE, group: str = ENTRY_POINT_GROUP
) -> list[PlaybookSpec]:
    """Every playbook of the built-in package and of the entry point group, built-ins first."""
    found: dict[str, PlaybookSpec] = {}
    root = importlib.import_module(package)
    for module_info in pkgutil.iter_modules(root.__path__, prefix=f"{package}."):
        module = importlib.import_module(module_info.name)
        for spec in registered_playbooks(module.__name__):
            _keep(found, dataclasses.replace(spec, source=f"built-in ({module.__name__})"))
    for entry_point in entry_points(group=group):
        for spec in _load(entry_point):
            _keep(found, dataclasses.replace(spec, source=_describe(entry_point)))
    return list(found.values())


def playbook_workflows(specs: list[PlaybookSpec] | None = None) -> list[type[Any]]:
    """The workflow classes of the given playbooks (default: all discovered), for a worker."""
    return [spec.workflow for spec in (discover_playbooks() if specs is None else specs)]


def _load(entry_point: EntryPoint) -> list[PlaybookSpec]:
    try:
        loaded = entry_point.load()
    except Exception as error:
        raise PlaybookDefinitionError(
            f"entry point {entry_point.name} = {entry_point.value} in group "
            f"{entry_point.group} cannot be loaded: {type(error).__name__}: {error}"
        ) from error
    if inspect.ismodule(loaded):
        return registered_playbooks(loaded.__name__)
    return [spec_of(loaded)]


def _describe(entry_point: EntryPoint) -> str:
    dist = entry_point.dist
    package = f" from {dist.name} {dist.version}" if dist is not None else ""
    return f"entry point {entry_point.name} = {entry_point.value}{package}"


def _keep(found: dict[str, PlaybookSpec], spec: PlaybookSpec) -> None:
    existing = found.get(spec.name)
    if existing is not None and existing.target is not spec.target:
        raise PlaybookDefinitionError(
            f"two playbooks are named {spec.name!r}: {existing.source} and {spec.source}"
        )
    found.setdefault(spec.name, spec)


def check_playbook_options(
    specs: Sequence[PlaybookSpec], configured: Mapping[str, PlaybookSettings]
) -> None:
    """Check each playbook's configured options against its options model, so a typo in
    `soar.toml` stops the worker at start-up with the setting named, instead of failing
    runs later. Raises :class:`PlaybookOptionsError` listing every problem."""
    problems: list[str] = []
    for spec in specs:
        settings = configured.get(spec.name)
        try:
            spec.validate_options(settings.options if settings else {})
        except PlaybookOptionsError as error:
            problems.append(str(error))
    if problems:
        raise PlaybookOptionsError("; ".join(problems))

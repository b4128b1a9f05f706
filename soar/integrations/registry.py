"""The registry of configured integrations of one kind (actuators, enrichers, …).

Every kind is configured the same way — a table per name with a `type` and `options` —
and built the same way: each type has a factory, supplied by the installed integrations
(`soar.runtime.integrations`); the factory validates the options into the
integration's own model. Names are unique; the order is the configuration's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel, Field

from soar.integrations.errors import IntegrationConfigError


class Named(Protocol):
    @property
    def name(self) -> str: ...


T = TypeVar("T", bound=Named)


class IntegrationSettings(BaseModel):
    """One configured integration: its `type` and its `options`.

    The integration validates `options` into its own typed model, secrets as
    `SecretStr`; they are left out of this model's repr so they never print.
    """

    type: str = Field(min_length=1)
    options: dict[str, Any] = Field(default_factory=dict, repr=False)


Factory = Callable[[str, Mapping[str, Any]], T]
"""Makes one configured integration from its name and its raw `options` (raising
:class:`IntegrationConfigError` for options that do not fit)."""


class Registry(Generic[T]):
    """Configured integrations of one kind, in configuration order, by unique name."""

    def __init__(self, members: Sequence[T] = ()) -> None:
        names = [member.name for member in members]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise IntegrationConfigError(f"names must be unique: {', '.join(duplicates)}")
        self.members: tuple[T, ...] = tuple(members)

    def __iter__(self) -> Iterator[T]:
        return iter(self.members)

    def __len__(self) -> int:
        return len(self.members)

    def get(self, name: str) -> T | None:
        """The member configured under `name`."""
        return next((member for member in self.members if member.name == name), None)


def build_members(
    section: str,
    settings: Mapping[str, IntegrationSettings],
    factories: Mapping[str, Factory[T]],
) -> list[T]:
    """One member per configured name, made by its type's factory. `section` is where
    they are configured (`actuators`, `enrichment.providers`), for the error that names
    a type no installed integration provides."""
    members: list[T] = []
    for name, configured in settings.items():
        factory = factories.get(configured.type)
        if factory is None:
            known = ", ".join(sorted(factories)) or "none"
            raise IntegrationConfigError(
                f"{section}.{name}.type: {configured.type!r} is not a type any installed "
                f"integration provides (known types: {known})"
            )
        members.append(factory(name, configured.options))
    return members

"""The containment workflows' one read of the store: an action as it stands now.

An expiry workflow is started right after its action is recorded; a person may revert
the action in between, through a revert workflow of its own (the expiry workflow did
not exist yet to ask). Before reverting anything, the expiry workflow reads the action
again, and ends without touching it when it is no longer in force.

Workflows import this module (through `workflow.unsafe.imports_passed_through()`) to
refer to the method; it does no I/O at import.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from temporalio import activity

from soar.containment.models import ContainmentAction

if TYPE_CHECKING:
    from soar.store.repository import Repository


class ActionLookup:
    """Reads a containment action from the store, for workflow code."""

    def __init__(self, store: Repository) -> None:
        self._store = store

    @activity.defn(name="containment.current_action")
    async def current_action(self, action_id: str) -> ContainmentAction | None:
        """The action as last recorded; None when the store does not have it."""
        return await self._store.get_action(action_id)

    def all(self) -> list[Callable[..., Any]]:
        """Every activity of this class, for a worker."""
        return [self.current_action]

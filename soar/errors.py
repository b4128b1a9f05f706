"""Why an operation was refused, shared by every client of the service layer.

A service (`soar/<domain>/service.py`) raises one of these with a message written for
the person who asked; the API maps the class to an HTTP status, the Slack bot shows the
message to the person who clicked, and the CLI (through the API) prints it and exits
non-zero. So the same refusal reads the same everywhere.
"""

from __future__ import annotations


class OperationError(Exception):
    """The operation was not carried out; `str(error)` says why, in plain words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(OperationError):
    """The thing the operation names does not exist."""


class ConflictError(OperationError):
    """The thing exists but its state refuses the operation (a closed case, a settled
    approval)."""


class UnavailableError(OperationError):
    """Temporal did not take the operation; nothing was changed and asking again is safe."""


class TimedOutError(UnavailableError):
    """Temporal took the operation but no worker answered in time: it may still be
    applied, and asking again is safe (every operation has a deterministic id)."""

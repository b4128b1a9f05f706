"""How the CLI says that something went wrong, in one place."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text


def print_error(message: str) -> None:
    """`error: <message>` on stderr. The message is printed literally (it may quote
    configuration, an API's answer or alert content, never Rich markup) and never
    wrapped, so a long setting name or path stays one line to read or to copy."""
    Console(stderr=True, soft_wrap=True).print(Text.assemble(("error: ", "red"), message))


def console() -> Console:
    """A console for one command's output, sized to the terminal as it is now (the
    `COLUMNS` a command runs with, not the one the module was imported under)."""
    return Console()

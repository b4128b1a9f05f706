"""The `soar` command (Typer + Rich)."""

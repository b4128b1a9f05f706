"""`python -m soar`: the same as the `soar` command."""

from soar.cli.main import app

app()

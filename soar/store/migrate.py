"""Alembic, configured in code: no `alembic.ini`, so it works from an installed package.

The product calls :func:`upgrade_to_head` through :meth:`soar.store.db.Store.migrate`.
Developers get the whole Alembic command line against any database URL::

    python -m soar.store.migrate --url sqlite+aiosqlite:///dev.sqlite3 upgrade head
    python -m soar.store.migrate --url sqlite+aiosqlite:///dev.sqlite3 \\
        revision --autogenerate -m "add case priority"

`--url` defaults to `$SOAR_DATABASE_URL`. New revisions land in `migrations/versions`.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path

from alembic import command
from alembic.config import CommandLine, Config
from sqlalchemy.engine import Connection

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration pointing at the migrations shipped in this package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _format_new_revisions_with_ruff(config: Config) -> None:
    """Have `alembic revision` leave files that pass `ruff check` and `ruff format --check`."""
    if importlib.util.find_spec("ruff") is None:
        return
    hooks = {
        "hooks": "ruff_fix ruff_format",
        "ruff_fix.type": "module",
        "ruff_fix.module": "ruff",
        "ruff_fix.options": "check --fix --quiet REVISION_SCRIPT_FILENAME",
        "ruff_format.type": "module",
        "ruff_format.module": "ruff",
        "ruff_format.options": "format --quiet REVISION_SCRIPT_FILENAME",
    }
    for name, value in hooks.items():
        config.set_section_option("post_write_hooks", name, value)


def upgrade_to_head(connection: Connection) -> None:
    """Run every pending migration on `connection`, inside its current transaction."""
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m soar.store.migrate [--url URL] <alembic command> ...`."""
    cli = CommandLine(prog="python -m soar.store.migrate")
    cli.parser.add_argument(
        "--url",
        default=os.environ.get("SOAR_DATABASE_URL"),
        help="database URL (default: $SOAR_DATABASE_URL)",
    )
    options = cli.parser.parse_args(argv)
    if not hasattr(options, "cmd"):
        cli.parser.error("too few arguments")
    if options.url is None:
        cli.parser.error("give --url or set SOAR_DATABASE_URL")
    config = alembic_config(options.url)
    config.cmd_opts = options
    _format_new_revisions_with_ruff(config)
    cli.run_cmd(config, options)


if __name__ == "__main__":
    main()

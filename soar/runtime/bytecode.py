"""Bytecode for the workflow modules the sandbox imports again for every run.

Temporal's sandbox re-imports a sandboxed workflow's modules (the playbooks, the SDK's
steps) each time the worker loads a run. Python normally reads them from its bytecode
cache; where it is told not to write one (`PYTHONDONTWRITEBYTECODE`, set on many
machines and images), every one of those imports compiled the modules from source,
which cost the worker a seventh of its CPU while 1,000 playbooks opened. So the worker
writes the cache of the `workflows` package itself when it starts: a module that has
not changed costs one `stat`, and a tree it may not write is left as it is.
"""

from __future__ import annotations

import compileall

import workflows


def compile_workflow_modules() -> None:
    """Bring the `workflows` package's bytecode cache up to date (errors ignored: an
    unwritable tree only means the sandbox compiles from source, as before)."""
    for path in workflows.__path__:
        compileall.compile_dir(path, quiet=2)

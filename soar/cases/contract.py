"""The case workflow's contract: its name, id scheme, signals and query.

Everyone who talks to a case workflow — correlation, the case service (API, Slack, CLI),
playbooks and the workflow itself — takes these names from here, so none is spelled
twice. Plain constants and pure functions: workflow code may import this module.
"""

from __future__ import annotations

import hashlib

CASE_WORKFLOW = "CaseWorkflow"
"""The workflow type that owns one open case per correlation key."""

ATTACH_SIGNAL = "attach"
"""Signal: an alert (:class:`soar.cases.activities.AttachAlert`) joins the case."""

COMMAND_SIGNAL = "command"
"""Signal: a :class:`soar.cases.models.CaseCommand` changes the case."""

PLAYBOOK_ENDED_SIGNAL = "playbook_ended"
"""Signal: a playbook the case started has ended."""

CASE_QUERY = "case"
"""Query: the case the workflow holds now, or None."""

PLAYBOOK_SEPARATOR = "/playbook/"


def case_workflow_id(key: str) -> str:
    """`case-<hash of the key>`: stable, short, and free of attacker-chosen characters."""
    return "case-" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def playbook_workflow_id(case_id: str, playbook: str) -> str:
    """`<case id>/playbook/<name>`: a playbook runs at most once per case."""
    return f"{case_id}{PLAYBOOK_SEPARATOR}{playbook}"


def case_of_playbook(workflow_id: str) -> str:
    """The case id of a playbook workflow id (see :func:`playbook_workflow_id`)."""
    return workflow_id.split(PLAYBOOK_SEPARATOR, 1)[0]


def playbook_of(workflow_id: str) -> str:
    """The playbook name of a playbook workflow id (see :func:`playbook_workflow_id`)."""
    return workflow_id.rsplit(PLAYBOOK_SEPARATOR, 1)[-1]

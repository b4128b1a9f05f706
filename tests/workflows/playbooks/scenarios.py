"""One typical run of each built-in playbook: the alert, and who approves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from temporalio.client import WorkflowHandle

from soar.alerts.models import Alert, ObservableRole, ObservableType, Severity
from soar.testing.playbook_runner import PlaybookHarness, PlaybookRun
from tests.workflows.sdk_support import alert, triaged

IP, HOST, USER = ObservableType.IP, ObservableType.HOSTNAME, ObservableType.USER


@dataclass(frozen=True)
class Scenario:
    alert: Alert
    approvers: tuple[str, ...]


SCENARIOS = {
    "malicious_ip": Scenario(
        alert(
            "builtin-malicious-ip",
            title="Beacon to a known C2 address",
            severity=Severity.HIGH,
            observables=[
                (IP, "45.10.20.30", ObservableRole.SOURCE),
                (HOST, "ws-12", ObservableRole.HOST),
            ],
        ),
        ("alice",),
    ),
    "compromised_host": Scenario(
        alert(
            "builtin-compromised-host",
            title="Ransomware behaviour detected",
            severity=Severity.CRITICAL,
            observables=[(HOST, "fin-laptop-07", ObservableRole.HOST)],
        ),
        ("alice", "bob"),
    ),
    "suspicious_user": Scenario(
        alert(
            "builtin-suspicious-user",
            title="Impossible travel sign-in",
            severity=Severity.MEDIUM,
            observables=[(USER, "j.doe", ObservableRole.ACTOR)],
        ),
        ("carol",),
    ),
}


async def run_scenario(
    h: PlaybookHarness, name: str, *, dry_run: bool = False, **start: Any
) -> tuple[PlaybookRun, WorkflowHandle[Any, Any]]:
    """Run a built-in on its scenario's alert, its approvers approving in turn."""
    scenario = SCENARIOS[name]
    handle = await h.start(
        name, scenario.alert, triage=triaged(scenario.alert), dry_run=dry_run, **start
    )
    approval = await h.next_approval(handle)
    for user in scenario.approvers:
        await h.decide(handle, approval.id, user, reason=f"{user} checked it")
    return await h.finish(handle), handle

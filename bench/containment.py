"""Containment benchmark on a real firewall: block actions through the product path,
timed from the Approve decision.

Builds the lab of the nftables tests (network namespaces: a gateway running nftables
and sshd, reached from this process over a veth; see tests/integrations/nftables/lab.py),
starts a Temporal dev server and the product's worker with `[actuators.edge] type =
"nftables"` against the gateway, then:

1. starts one alert per attacker (default 50, public-looking addresses of 192.88.99.0/24
   that exist only in the lab), each opening a case whose `malicious_ip` playbook asks
   for approval — not timed;
2. for each in turn, sends the Approve decision through the approvals service (the
   `decide` Update, as the API and Slack do) and times it until the element is on the
   gateway's firewall (read with nft in its namespace), and until the playbook has
   ended with the action verified by the actuator.

Prints p50/p99 of both, and the SSH commands (and connections) the actuator ran per
action: the activity's read of the table, its one-transaction write, its verify, and the
playbook's own verify. Needs root, `ip`, `nft` and `sshd`. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from common import percentile
from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from integrations.nftables.actuator import NftablesActuator
from soar import search_attributes
from soar.alerts.models import (
    Alert,
    Observable,
    ObservableRole,
    ObservableType,
    Rule,
    Severity,
    SeverityInfo,
    make_alert,
)
from soar.approvals.models import ApprovalRequest, ApprovalSettings, DecisionKind, DecisionRequest
from soar.approvals.service import decide
from soar.cases.contract import playbook_workflow_id
from soar.containment.models import ActionState
from soar.guardrails.settings import GuardrailSettings
from soar.runtime.integrations import actuators_of
from soar.runtime.services import build_delivery
from soar.runtime.temporal_server import temporal_binary
from soar.runtime.worker import build_worker
from soar.settings import Settings, TemporalSettings
from soar.store.db import Store
from soar.testing.playbook_runner import pending_approvals
from tests.integrations.nftables.lab import Host, Lab, missing_requirements, running_lab
from workflows.sdk.models import PlaybookResult

DECIDER = "bench-analyst"
WAIT = 60.0


def attacker(n: int) -> str:
    return f"192.88.99.{100 + n}"


def alert_for(address: str) -> Alert:
    return make_alert(
        source="bench-containment",
        native_key=f"{address}-{uuid.uuid4().hex[:8]}",
        title="SSH brute force from the internet",
        rule=Rule(name="SSH brute force"),
        severity=SeverityInfo(level=Severity.HIGH),
        time=datetime.now(UTC),
        observables=[Observable(type=ObservableType.IP, value=address, role=ObservableRole.SOURCE)],
    )


async def pending(client: Client, store: Store, address: str) -> tuple[str, ApprovalRequest]:
    """The case of `address` and its playbook's pending approval, once asked."""
    async with asyncio.timeout(WAIT):
        while True:
            cases = [
                c
                for c in await store.list_cases(limit=1000)
                if c.correlation_key.startswith(f"ip:{address}|")
            ]
            if cases:
                handle = client.get_workflow_handle(
                    playbook_workflow_id(cases[0].id, "malicious_ip")
                )
                try:
                    asked = await pending_approvals(handle)
                except (RPCError, WorkflowQueryFailedError):
                    asked = []
                if asked:
                    return cases[0].id, asked[0]
            await asyncio.sleep(0.1)


async def on_firewall(gateway: Host, address: str) -> None:
    """Return once `address` is an element of the gateway's blocklist."""
    async with asyncio.timeout(WAIT):
        while True:
            elements = await asyncio.to_thread(gateway.set_elements, "soar", "blocklist4")
            if any(e.get("elem", {}).get("val", e) == address for e in elements):
                return
            await asyncio.sleep(0.005)


def percentiles(samples: list[float]) -> str:
    return (
        f"p50 {statistics.median(samples) * 1000:.0f} ms, "
        f"p99 {percentile(samples, 0.99) * 1000:.0f} ms ({len(samples)} actions)"
    )


async def measure(args: argparse.Namespace, lab: Lab, directory: Path) -> None:
    known_hosts = lab.known_hosts(directory / "known_hosts", lab.gateway)
    settings = Settings(
        data_dir=directory,
        temporal=TemporalSettings(task_queue=f"bench-containment-{uuid.uuid4().hex[:8]}"),
        approvals=ApprovalSettings(deciders=[DECIDER]),
        actuators={"edge": {"type": "nftables", "options": lab.options(lab.gateway, known_hosts)}},
        guardrails=GuardrailSettings(
            gateways=[lab.gateway.address], max_containments_per_hour=args.actions + 10
        ),
        playbooks={"malicious_ip": {"options": {"block_seconds": args.block_seconds}}},
    )
    registry = actuators_of(settings)
    edge = registry.get("edge")
    assert isinstance(edge, NftablesActuator)
    store = Store(settings.resolved_database_url())
    await store.migrate()
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()),
        search_attributes=search_attributes.ALL,
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
    )
    try:
        client = env.client
        async with build_worker(client, settings, store, actuators=registry):
            starter = build_delivery(client, settings, store)
            addresses = [attacker(n) for n in range(args.actions)]
            await asyncio.gather(*(starter.deliver([alert_for(a)]) for a in addresses))
            asked = [await pending(client, store, a) for a in addresses]
            print(f"{len(asked)} approvals pending; deciding them one at a time")
            to_firewall: list[float] = []
            to_verified: list[float] = []
            commands: list[int] = []
            for address, (case_id, approval) in zip(addresses, asked, strict=True):
                before = edge.shell.commands
                started = time.perf_counter()
                await decide(
                    client,
                    store,
                    DecisionRequest(
                        approval_id=approval.id, decision=DecisionKind.APPROVE, user=DECIDER
                    ),
                )
                await on_firewall(lab.gateway, address)
                to_firewall.append(time.perf_counter() - started)
                handle = client.get_workflow_handle(
                    playbook_workflow_id(case_id, "malicious_ip"), result_type=PlaybookResult
                )
                result = await asyncio.wait_for(handle.result(), WAIT)
                to_verified.append(time.perf_counter() - started)
                commands.append(edge.shell.commands - before)
                [action] = result.actions
                if action.state is not ActionState.VERIFIED:
                    print(f"  {address}: {action.state.value}: {action.detail}")
        blocked = len(lab.gateway.set_elements("soar", "blocklist4"))
        print(f"Approve → element on the gateway's firewall: {percentiles(to_firewall)}")
        print(f"Approve → playbook ended, action verified:    {percentiles(to_verified)}")
        print(
            f"SSH commands per action: median {statistics.median(commands):g}, "
            f"min {min(commands)}, max {max(commands)}; {edge.shell.connections} SSH "
            f"connection(s) in all; {blocked} elements on the firewall at the end"
        )
        verdict = "meets" if statistics.median(to_firewall) < 1 else "misses"
        print(f"target p50 under 1 s to the firewall: {verdict}")
    finally:
        await edge.aclose()
        await env.shutdown()
        await store.close()


def main(args: argparse.Namespace) -> None:
    missing = missing_requirements()
    if missing:
        raise SystemExit(f"this benchmark needs {', '.join(missing)}")
    with tempfile.TemporaryDirectory(prefix="soar-bench-containment-") as scratch:
        directory = Path(scratch)
        (directory / "lab").mkdir()
        with running_lab(directory / "lab") as lab:
            print(f"lab up: gateway {lab.gateway.address}:{lab.gateway.port} ({lab.prefix})")
            asyncio.run(measure(args, lab, directory))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--actions", type=int, default=50)
    parser.add_argument("--block-seconds", type=int, default=3600)
    main(parser.parse_args(sys.argv[1:]))

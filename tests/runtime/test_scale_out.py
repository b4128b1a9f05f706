"""Scale-out, the way a production deployment grows: three `soar worker` processes and
two `soar api` processes against one Temporal server and one PostgreSQL database (a
database of the module's own, dropped afterwards).

- The workers share a storm, and one of them is killed with SIGKILL in the middle of it:
  every alert still reaches its case once (counts, attachments and timeline entries
  exactly as sent), and more than one worker did the work.
- The same batch posted to both APIs at once (a SIEM retrying against the other replica
  behind a balancer) opens each case once and counts each alert once.

Needs `SOAR_TEST_DATABASE_URL` (CI sets it): several processes sharing one SQLite file is
not a deployment this product recommends."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from soar.cases.contract import case_workflow_id
from soar.cases.models import TimelineKind
from soar.runtime.temporal_server import EmbeddedTemporal
from soar.store.db import Store
from soar.store.views import CaseDetail
from tests.bot.support import eventually
from tests.conftest import REPO_ROOT, free_port, unconfigured_environ, unique, unique_address
from tests.runtime.test_split_processes import OPERATOR, WEBHOOK, spawn, stop_cleanly

POSTGRES_URL_VARIABLE = "SOAR_TEST_DATABASE_URL"
WORKERS = 3
APIS = 2
TITLE = "Beacon to a known C2"
SETTLE_WITHIN = 180
"""Seconds for a storm to settle. Past a SIGKILL the dead worker's workflow tasks wait
out their 10 s timeout before another worker takes them."""


@dataclass
class ScaledOut:
    """The running deployment: the APIs' base URLs, every process by name, their logs,
    and the store and Temporal they share, as the test reads them."""

    bases: list[str]
    processes: dict[str, subprocess.Popen[bytes]]
    logs: dict[str, Path]
    store: Store
    client: Client

    def logged(self) -> str:
        return "\n".join(
            f"--- {name}\n{path.read_text(errors='replace')[-3000:]}"
            for name, path in self.logs.items()
        )


@pytest.fixture(scope="module")
async def database() -> AsyncIterator[str]:
    """The URL of a PostgreSQL database made for this module, dropped afterwards."""
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        pytest.skip(f"{POSTGRES_URL_VARIABLE} is unset: scale-out is tested on PostgreSQL")
    name = f"soar_scale_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.fixture(scope="module")
async def scaled(
    database: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ScaledOut]:
    """Temporal, the workers and the APIs. Teardown stops each process still running
    with SIGTERM and fails unless it exits 0."""
    home = tmp_path_factory.mktemp("scale-out")
    server = EmbeddedTemporal(db_file=home / "temporal.sqlite3", port=free_port(), ui_port=None)
    await server.start()
    queue = f"scale-{unique()}"
    env = unconfigured_environ() | {
        "SOAR_CONFIG": str(home / "absent.toml"),
        "SOAR_DATA_DIR": str(home / "data"),
        "SOAR_DATABASE_URL": database,
        "SOAR_WEBHOOK_TOKEN": WEBHOOK,
        "SOAR_API_TOKEN": OPERATOR,
        "SOAR_TEMPORAL__ADDRESS": server.address,
        "SOAR_TEMPORAL__TASK_QUEUE": queue,
        "PYTHONPATH": str(REPO_ROOT),
    }
    ports = {f"api{n}": free_port() for n in range(APIS)}
    commands = {f"worker{n}": ("worker", env) for n in range(WORKERS)} | {
        name: ("api", env | {"SOAR_API_PORT": str(port)}) for name, port in ports.items()
    }
    logs = {name: home / f"{name}.log" for name in commands}
    processes = {name: spawn(command, env, logs[name]) for name, (command, env) in commands.items()}
    store = Store(database)
    stack = ScaledOut(
        [f"http://127.0.0.1:{port}" for port in ports.values()],
        processes,
        logs,
        store,
        await Client.connect(server.address),
    )
    try:
        await asyncio.gather(*(ready(stack, base) for base in stack.bases))
        await every_worker_polling(stack, queue)
        yield stack
        for name, process in processes.items():
            if process.poll() is None:
                code = stop_cleanly(process)
                assert code == 0, f"{name} exited {code} on SIGTERM:\n{stack.logged()}"
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()
        await store.close()
        await server.stop()


async def ready(stack: ScaledOut, base: str) -> None:
    """Until the API at `base` answers /readyz with 200, every process still running."""

    async def answers() -> bool:
        for name, process in stack.processes.items():
            assert process.poll() is None, f"{name} exited early:\n{stack.logged()}"
        try:
            async with httpx.AsyncClient(timeout=2) as http:
                return (await http.get(f"{base}/readyz")).status_code == 200
        except httpx.HTTPError:
            return False

    await eventually(answers, within=90)


async def every_worker_polling(stack: ScaledOut, queue: str) -> None:
    """Until every worker process polls the workflow task queue: a storm sent before
    the last one is up is all taken by the others, and shares nothing."""

    async def polling() -> bool:
        answer = await stack.client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=stack.client.namespace,
                task_queue=TaskQueue(name=queue),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            )
        )
        return len({poller.identity for poller in answer.pollers}) >= WORKERS

    await eventually(polling, within=90)


def storm(attackers: list[str], per_attacker: int) -> list[dict[str, Any]]:
    """`per_attacker` low alerts from each attacker, interleaved (data only: nothing is
    sent to these addresses). Low: no playbook asks for anything."""
    run = unique()
    return [
        {
            "id": f"scale-{run}-{n}",
            "title": TITLE,
            "severity": "low",
            "src_ip": attackers[n % len(attackers)],
            "time": "2026-12-01T10:00:00Z",
        }
        for n in range(len(attackers) * per_attacker)
    ]


async def post(base: str, batch: list[dict[str, Any]]) -> list[str]:
    """POST one batch to /webhooks/generic; the alert ids of the 202."""
    async with httpx.AsyncClient(timeout=60) as http:
        answer = await http.post(
            f"{base}/webhooks/generic",
            json=batch,
            headers={"Authorization": f"Bearer {WEBHOOK}"},
        )
    assert answer.status_code == 202, answer.text
    assert answer.json()["rejected"] == [], answer.text
    return [accepted["alert_id"] for accepted in answer.json()["accepted"]]


async def cases_of(store: Store, attackers: list[str], per_attacker: int) -> dict[str, CaseDetail]:
    """Each attacker's case once it counts `per_attacker` alerts (keyed by address)."""
    keys = {f"ip:{address}|{TITLE.lower()}": address for address in attackers}

    async def settled() -> dict[str, CaseDetail] | None:
        found: dict[str, CaseDetail] = {}
        for summary in await store.list_cases(limit=500):
            if summary.correlation_key in keys:
                assert keys[summary.correlation_key] not in found, "two cases for one attacker"
                detail = await store.get_case_detail(summary.id, alert_limit=None)
                assert detail is not None
                found[keys[summary.correlation_key]] = detail
        counted = [d.alert_count for d in found.values()]
        return found if len(found) == len(attackers) and set(counted) == {per_attacker} else None

    return await eventually(settled, within=SETTLE_WITHIN)


async def worker_identities(client: Client, cases: dict[str, CaseDetail]) -> set[str]:
    """Which worker processes ran workflow tasks of these cases' workflows."""
    identities: set[str] = set()
    for detail in cases.values():
        workflow_id = case_workflow_id(detail.correlation_key)
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        identities.update(
            e.workflow_task_started_event_attributes.identity
            for e in history.events
            if e.HasField("workflow_task_started_event_attributes")
        )
    return identities


def assert_each_once(detail: CaseDetail, sent: set[str]) -> None:
    """The case holds exactly the alerts sent to it, each attached once."""
    assert {a.id for a in detail.alerts} == sent
    attached = [
        e.data.get("alert_id") for e in detail.timeline if e.kind == TimelineKind.ALERT_ATTACHED
    ]
    assert len(attached) == len(sent), attached
    assert set(attached) == sent


@pytest.mark.solo
async def test_three_workers_share_a_storm_and_one_killed_mid_storm_loses_nothing(
    scaled: ScaledOut,
) -> None:
    attackers = [unique_address() for _ in range(10)]
    alerts = storm(attackers, 30)
    batches = [alerts[i : i + 20] for i in range(0, len(alerts), 20)]
    ids: dict[str, str] = {}
    for n, batch in enumerate(batches):
        if n == len(batches) // 3:
            scaled.processes["worker0"].send_signal(signal.SIGKILL)
        answered = await post(scaled.bases[n % len(scaled.bases)], batch)
        ids |= {alert["id"]: alert_id for alert, alert_id in zip(batch, answered, strict=True)}

    cases = await cases_of(scaled.store, attackers, 30)

    assert scaled.processes["worker0"].wait() == -signal.SIGKILL
    for address, detail in cases.items():
        sent = {ids[a["id"]] for a in alerts if a["src_ip"] == address}
        assert_each_once(detail, sent)
    assert len(await worker_identities(scaled.client, cases)) > 1, scaled.logged()


@pytest.mark.solo
async def test_the_same_batch_posted_to_both_apis_at_once_counts_each_alert_once(
    scaled: ScaledOut,
) -> None:
    attackers = [unique_address() for _ in range(2)]
    alerts = storm(attackers, 20)

    first, second = await asyncio.gather(*(post(base, alerts) for base in scaled.bases))

    assert first == second
    cases = await cases_of(scaled.store, attackers, 20)
    for address, detail in cases.items():
        assert_each_once(detail, {first[n] for n, a in enumerate(alerts) if a["src_ip"] == address})
    for detail in cases.values():
        workflow_id = case_workflow_id(detail.correlation_key)
        runs = await scaled.client.count_workflows(f"WorkflowId = '{workflow_id}'")
        assert runs.count == 1, workflow_id

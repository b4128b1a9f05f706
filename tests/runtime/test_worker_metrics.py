"""`SOAR_TEMPORAL__METRICS_ADDRESS`: `soar worker` serves the Temporal SDK's metrics on a
Prometheus endpoint (the workflow task histogram with buckets past one second), serves
none without it, and stops in one line naming the variable when the address is taken."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client

from soar.alerts.models import Observable, ObservableRole, ObservableType
from soar.runtime.metrics import METRICS_ADDRESS_VARIABLE, worker_metrics_runtime
from soar.runtime.services import build_delivery
from soar.settings import TemporalSettings
from soar.store.db import Store
from tests.conftest import (
    REPO_ROOT,
    free_port,
    make_settings,
    unconfigured_environ,
    unique,
    unique_address,
)
from tests.store import factories

STOP_SECONDS = 30


def worker_env(home: Path, temporal: Client, queue: str, metrics: str | None) -> dict[str, str]:
    env = unconfigured_environ() | {
        "SOAR_CONFIG": str(home / "absent.toml"),
        "SOAR_DATA_DIR": str(home / "data"),
        "SOAR_TEMPORAL__ADDRESS": temporal.service_client.config.target_host,
        "SOAR_TEMPORAL__TASK_QUEUE": queue,
        "PYTHONPATH": str(REPO_ROOT),
        "COLUMNS": "400",
    }
    return env | ({METRICS_ADDRESS_VARIABLE: metrics} if metrics else {})


def logged(log: Path) -> str:
    return log.read_text(errors="replace")


def spawn_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "soar", "worker"],
            cwd=log.parent,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


async def scrape_until(
    url: str, found: str, worker: subprocess.Popen[bytes], log: Path, within: float = 60
) -> str:
    """The endpoint's text once it holds `found` (the worker must stay up meanwhile)."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=2) as http:
        while time.monotonic() < deadline:
            assert worker.poll() is None, f"the worker exited:\n{logged(log)}"
            try:
                text = (await http.get(url)).text
                if found in text:
                    return text
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError(f"{found!r} never served at {url}:\n{logged(log)}")


def stop(worker: subprocess.Popen[bytes]) -> int:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
    try:
        return worker.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
        return -9


async def test_the_worker_serves_its_workflow_task_latencies_when_asked(
    temporal_client: Client, tmp_path: Path
) -> None:
    queue = f"metrics-{unique()}"
    address = f"127.0.0.1:{free_port()}"
    log = tmp_path / "worker.log"
    settings = make_settings(
        tmp_path / "data", temporal=TemporalSettings(task_queue=queue, rpc_timeout_seconds=5)
    )
    store = Store(settings.resolved_database_url())  # the worker's own store
    await store.migrate()
    worker = spawn_worker(worker_env(tmp_path, temporal_client, queue, address), log)
    try:
        # An address of its own: the case it opens belongs to this worker's store alone.
        attacker = Observable(
            type=ObservableType.IP, value=unique_address(), role=ObservableRole.SOURCE
        )
        alert = factories.alert(f"metrics-{unique()}", observables=[attacker])
        delivered = await build_delivery(temporal_client, settings, store).deliver([alert])
        assert (delivered.duplicates, delivered.failed) == (set(), [])
        text = await scrape_until(
            f"http://{address}/metrics",
            'temporal_workflow_task_execution_latency_bucket{namespace="default"',
            worker,
            log,
        )
        case_tasks = [
            line
            for line in text.splitlines()
            if line.startswith("temporal_workflow_task_execution_latency_bucket")
            and f'task_queue="{queue}"' in line
            and 'workflow_type="CaseWorkflow"' in line
        ]
        bounds = [line.split('le="', 1)[1].split('"', 1)[0] for line in case_tasks]
        assert bounds[-3:] == ["30000", "60000", "+Inf"], case_tasks
        assert int(case_tasks[-1].rsplit(" ", 1)[1]) >= 1, case_tasks
    finally:
        assert stop(worker) == 0, logged(log)
        await store.close()


async def test_a_taken_metrics_address_stops_the_worker_in_one_line_naming_it(
    temporal_client: Client, tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        log = tmp_path / "worker.log"
        worker = spawn_worker(
            worker_env(tmp_path, temporal_client, f"metrics-{unique()}", address), log
        )
        try:
            code = worker.wait(timeout=60)
        finally:
            stop(worker)
    output = logged(log)
    assert code == 1, output
    assert f"{METRICS_ADDRESS_VARIABLE}='{address}' cannot be served" in output
    assert "Address already in use" in output
    assert "Traceback" not in output


def test_no_address_serves_nothing_and_a_malformed_one_is_named() -> None:
    assert worker_metrics_runtime({}) is None
    assert worker_metrics_runtime({METRICS_ADDRESS_VARIABLE: "  "}) is None
    with pytest.raises(RuntimeError, match=f"{METRICS_ADDRESS_VARIABLE}='localhost:9464'"):
        worker_metrics_runtime({METRICS_ADDRESS_VARIABLE: "localhost:9464"})

"""`soar worker` and `soar api` as separate processes against one Temporal, the way a
production deployment runs them (and the way bench/storm.py does): the product's
embedded Temporal on a free port, then the two commands with `SOAR_TEMPORAL__ADDRESS`
and a shared temporary data directory. An alert posted to the API process must be
recorded, and attached to a case, by the worker process; `soar alerts list` must show it
through the running API, with its filters; SIGTERM must stop both cleanly."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from soar.cli.main import app
from soar.runtime.temporal_server import EmbeddedTemporal
from tests.conftest import REPO_ROOT, SAMPLES, free_port, unconfigured_environ, unique

WEBHOOK = "split-webhook-token"
OPERATOR = "split-operator-token"
STOP_SECONDS = 30


@dataclass
class SplitStack:
    """The running deployment: the API's base URL, both processes, their log files."""

    base: str
    env: dict[str, str]
    worker: subprocess.Popen[bytes]
    api: subprocess.Popen[bytes]
    logs: dict[str, Path]

    def log(self, name: str) -> str:
        return self.logs[name].read_text(errors="replace")


def spawn(command: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`python -m soar <command>` with its output in a file (a pipe nobody reads while
    the test runs could fill up and block the process)."""
    with log.open("wb") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "soar", command],
            cwd=log.parent,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


async def wait_ready(stack: SplitStack, within: float = 60) -> None:
    """Until the API process answers /readyz with 200 (it reaches Temporal)."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=2) as http:
        while time.monotonic() < deadline:
            for name, process in (("worker", stack.worker), ("api", stack.api)):
                assert process.poll() is None, f"{name} exited early:\n{stack.log(name)}"
            try:
                if (await http.get(f"{stack.base}/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError(f"soar api did not become ready:\n{stack.log('api')}")


def stop_cleanly(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM, then the exit code; SIGKILL (and a failing code) past the grace period."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return -9


@pytest.fixture(scope="module")
async def split(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SplitStack]:
    """Temporal, `soar worker` and `soar api` for the module's tests. Teardown stops the
    two commands with SIGTERM and fails unless both exit 0 having said so."""
    home = tmp_path_factory.mktemp("split")
    server = EmbeddedTemporal(db_file=home / "temporal.sqlite3", port=free_port(), ui_port=None)
    await server.start()
    api_port = free_port()
    env = unconfigured_environ() | {
        "SOAR_CONFIG": str(home / "absent.toml"),
        "SOAR_DATA_DIR": str(home / "data"),
        "SOAR_WEBHOOK_TOKEN": WEBHOOK,
        "SOAR_API_TOKEN": OPERATOR,
        "SOAR_API_PORT": str(api_port),
        "SOAR_TEMPORAL__ADDRESS": server.address,
        "SOAR_TEMPORAL__TASK_QUEUE": f"split-{unique()}",
        "PYTHONPATH": str(REPO_ROOT),
        "COLUMNS": "400",
    }
    logs = {name: home / f"{name}.log" for name in ("worker", "api")}
    worker = spawn("worker", env, logs["worker"])
    api = spawn("api", env, logs["api"])
    stack = SplitStack(f"http://127.0.0.1:{api_port}", env, worker, api, logs)
    try:
        await wait_ready(stack)
        yield stack
        codes = {"api": stop_cleanly(api), "worker": stop_cleanly(worker)}
        for name, code in codes.items():
            assert code == 0, f"{name} exited {code} on SIGTERM:\n{stack.log(name)}"
            assert "Stopped cleanly." in stack.log(name), stack.log(name)
    finally:
        for process in (api, worker):
            if process.poll() is None:
                process.kill()
                process.wait()
        await server.stop()


def operator() -> dict[str, str]:
    return {"Authorization": f"Bearer {OPERATOR}"}


async def post(stack: SplitStack, source: str, body: bytes) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await http.post(
            f"{stack.base}/webhooks/{source}",
            content=body,
            headers={"Authorization": f"Bearer {WEBHOOK}", "Content-Type": "application/json"},
        )
    assert answer.status_code == 202, answer.text
    (accepted,) = answer.json()["accepted"]
    assert accepted["queued"] is False, accepted
    return accepted


async def recorded(stack: SplitStack, alert_id: str, within: float = 30) -> dict[str, Any]:
    """The alert as the operator API serves it once the worker process recorded it."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=5) as http:
        while time.monotonic() < deadline:
            answer = await http.get(f"{stack.base}/api/alerts/{alert_id}", headers=operator())
            if answer.status_code == 200:
                listed = await http.get(f"{stack.base}/api/alerts", headers=operator())
                if alert_id in {a["id"] for a in listed.json()}:
                    return answer.json()
            await asyncio.sleep(0.2)
    raise AssertionError(f"{alert_id} not recorded:\n{stack.log('worker')}")


async def case_of(stack: SplitStack, alert_id: str, within: float = 30) -> dict[str, Any]:
    """The case the worker attached the alert to, found through the operator API."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=5) as http:
        while time.monotonic() < deadline:
            cases = (await http.get(f"{stack.base}/api/cases", headers=operator())).json()
            for summary in cases:
                detail = await http.get(
                    f"{stack.base}/api/cases/{summary['id']}", headers=operator()
                )
                if alert_id in detail.json()["alert_ids"]:
                    return detail.json()
            await asyncio.sleep(0.2)
    raise AssertionError(f"no case holds {alert_id}:\n{stack.log('worker')}")


def generic(severity: str, ip: str) -> bytes:
    """A generic alert from `ip` (the source address is the case's key with the rule
    family; data only, nothing is sent to it)."""
    return (
        f'{{"id": "split-{unique()}", "title": "Beacon to a known C2 ({severity})", '
        f'"severity": "{severity}", "src_ip": "{ip}", "time": "2026-11-22T10:00:00Z"}}'
    ).encode()


async def test_alert_posted_to_the_api_process_is_recorded_by_the_worker_process(
    split: SplitStack,
) -> None:
    accepted = await post(split, "generic", generic("high", "45.10.77.7"))
    alert = await recorded(split, accepted["alert_id"])
    assert alert["title"] == "Beacon to a known C2 (high)"
    assert alert["severity"]["level"] == "high"
    case = await case_of(split, accepted["alert_id"])
    assert case["correlation_key"] == "ip:45.10.77.7|beacon to a known c2 high"
    assert case["alert_count"] == 1
    assert [a["id"] for a in case["alerts"]] == [accepted["alert_id"]]
    async with httpx.AsyncClient(timeout=5) as http:
        refused = await http.get(f"{split.base}/api/alerts/{accepted['alert_id']}")
    assert refused.status_code == 401


async def soar_cli(stack: SplitStack, *args: str) -> tuple[int, str]:
    """Run a `soar` CLI command in a thread (it starts its own event loop), configured from
    the same environment as the processes, against the running API."""
    env: dict[str, str | None] = {
        "SOAR_CONFIG": stack.env["SOAR_CONFIG"],
        "SOAR_API_TOKEN": OPERATOR,
        "SOAR_API_HOST": "127.0.0.1",
        "SOAR_API_PORT": stack.env["SOAR_API_PORT"],
        "SOAR_PUBLIC_URL": None,
        "COLUMNS": "400",
    }
    result = await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env)
    return result.exit_code, result.output


async def test_alerts_list_filters_by_source_and_severity(split: SplitStack) -> None:
    low = await post(split, "generic", generic("low", "45.10.78.8"))
    critical = await post(split, "generic", generic("critical", "45.10.79.9"))
    splunk = await post(split, "splunk", (SAMPLES / "splunk.json").read_bytes())
    for accepted in (low, critical, splunk):
        await recorded(split, accepted["alert_id"])
    ids = {low["alert_id"], critical["alert_id"], splunk["alert_id"]}

    def shown(output: str) -> set[str]:
        return {alert_id for alert_id in ids if alert_id in output}

    code, everything = await soar_cli(split, "alerts", "list")
    assert code == 0, everything
    assert shown(everything) == ids
    code, only_splunk = await soar_cli(split, "alerts", "list", "--source", "splunk")
    assert code == 0, only_splunk
    assert shown(only_splunk) == {splunk["alert_id"]}
    assert "Repeated sudo failures on jump hosts" in only_splunk
    code, only_low = await soar_cli(split, "alerts", "list", "--severity", "low")
    assert code == 0, only_low
    assert shown(only_low) == {low["alert_id"]}
    code, both = await soar_cli(
        split, "alerts", "list", "--source", "generic", "--severity", "critical"
    )
    assert code == 0, both
    assert shown(both) == {critical["alert_id"]}
    code, nothing = await soar_cli(split, "alerts", "list", "--source", "nosuchsource")
    assert code == 0, nothing
    assert shown(nothing) == set()
    code, bad = await soar_cli(split, "alerts", "list", "--severity", "catastrophic")
    assert code == 1
    assert "HTTP 422" in bad and "severity" in bad

"""`soar up` tells its worker process to yield while the intake is saturated: busy maps
to SIGUSR1 and quiet to SIGUSR2; in a saturated burst the API says so, the worker yields
and then runs at full width again, and every alert reaches its case."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import textwrap
import time
import tomllib
import uuid
from pathlib import Path

import httpx
import pytest

from soar.runtime.stack import _prepare_worker_process, _signal_worker
from tests.runtime.test_up import SoarUp, environment, start, stop, wait_ready

__all__ = ["environment"]

LISTENER = textwrap.dedent(
    """
    import signal, sys, time
    signal.signal(signal.SIGUSR1, lambda *_: print("yield", flush=True))
    signal.signal(signal.SIGUSR2, lambda *_: print("full", flush=True))
    print("ready", flush=True)
    time.sleep(5)
    """
)


async def test_busy_and_quiet_become_the_two_signals() -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        LISTENER,
        stdout=asyncio.subprocess.PIPE,
        preexec_fn=_prepare_worker_process,
    )
    assert child.stdout is not None
    assert await child.stdout.readline() == b"ready\n"
    tell = _signal_worker(child)
    tell(True)
    assert await asyncio.wait_for(child.stdout.readline(), 5) == b"yield\n"
    tell(False)
    assert await asyncio.wait_for(child.stdout.readline(), 5) == b"full\n"
    child.kill()
    await child.wait()
    tell(True)


def on_their_case(database: Path, run: str) -> int:
    with sqlite3.connect(database) as db:
        (count,) = db.execute(
            "SELECT COUNT(*) FROM alerts WHERE dedup_key LIKE ? AND case_id IS NOT NULL",
            (f"generic:{run}-%",),
        ).fetchone()
    return int(count)


def wait_on_cases(process: SoarUp, database: Path, run: str, count: int) -> None:
    for _ in range(600):
        assert process.poll() is None, "soar up ended: its worker process stopped"
        if on_their_case(database, run) == count:
            return
        time.sleep(0.2)
    assert on_their_case(database, run) == count


async def send_burst(base: str, token: str, run: str, deliveries: int, per: int) -> None:
    """`deliveries` batches at once (32 is far over the point where the intake counts as
    busy)."""
    async with httpx.AsyncClient(timeout=60) as http:

        async def deliver(d: int) -> None:
            batch = [
                {"id": f"{run}-{d}-{n}", "title": "Port scan", "src_ip": f"198.51.100.{d}"}
                for n in range(per)
            ]
            answer = await http.post(
                f"{base}/webhooks/generic",
                json=batch,
                headers={"Authorization": f"Bearer {token}"},
            )
            assert answer.status_code == 202, answer.text
            assert not any(a["queued"] for a in answer.json()["accepted"])

        await asyncio.gather(*(deliver(d) for d in range(deliveries)))


@pytest.mark.solo
def test_a_saturated_burst_makes_the_worker_yield_then_every_alert_reaches_its_case(
    tmp_path: Path, environment: dict[str, str]
) -> None:
    base = f"http://127.0.0.1:{environment['SOAR_API_PORT']}"
    process = start(tmp_path, environment | {"SOAR_LOG_LEVEL": "INFO"})
    try:
        wait_ready(base, process)
        token = tomllib.loads((tmp_path / "soar.toml").read_text())["webhook_token"]
        database = tmp_path / ".soar" / "soar.sqlite3"
        warm_up = uuid.uuid4().hex[:8]
        asyncio.run(send_burst(base, token, warm_up, 1, 1))
        wait_on_cases(process, database, warm_up, 1)
        run = uuid.uuid4().hex[:8]
        deliveries, per = 32, 10
        asyncio.run(send_burst(base, token, run, deliveries, per))
        wait_on_cases(process, database, run, deliveries * per)
    finally:
        output = stop(process)
    assert "worker stopped" not in output
    said = output.index("intake saturated")
    yielded = output.index("yielding to the intake", said)
    assert output.index("full width again", yielded) > yielded

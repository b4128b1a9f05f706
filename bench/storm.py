"""Alert-storm benchmark: 10,000 alerts about 50 attackers through triage and correlation,
then the worker's memory with 1,000 open cases each waiting for a decision.

Runs the product as separate processes, as in production: the embedded Temporal server,
`soar worker` and `soar api`, on free loopback ports in a temporary data directory.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from common import free_port, wait_ready

from soar.runtime.temporal_server import EmbeddedTemporal

TOKEN = "bench-token"


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def attacker(n: int, run: int) -> str:
    """Public-looking addresses (data only: nothing is ever sent to them)."""
    return f"45.{run % 200 + 10}.{n // 250}.{n % 250 + 1}"


async def post_batches(
    base: str, alerts: list[dict[str, object]], batch: int, clients: int
) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    chunks = [alerts[i : i + batch] for i in range(0, len(alerts), batch)]
    slots = asyncio.Semaphore(clients)
    async with httpx.AsyncClient(timeout=120) as http:

        async def send(chunk: list[dict[str, object]]) -> None:
            async with slots:
                answer = await http.post(f"{base}/webhooks/generic", json=chunk, headers=headers)
                if answer.status_code != 202 or answer.json()["rejected"]:
                    raise SystemExit(f"unexpected answer {answer.status_code}: {answer.text[:300]}")

        await asyncio.gather(*(send(chunk) for chunk in chunks))


async def cases_by_key(base: str, prefix: str) -> dict[str, int]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    found: dict[str, int] = {}
    async with httpx.AsyncClient(timeout=60) as http:
        offset = 0
        while True:
            page = (
                await http.get(
                    f"{base}/api/cases", params={"limit": 500, "offset": offset}, headers=headers
                )
            ).json()
            for case in page:
                if case["correlation_key"].startswith(prefix):
                    found[case["id"]] = case["alert_count"]
            if len(page) < 500:
                return found
            offset += 500


async def storm(base: str, args: argparse.Namespace) -> None:
    run = uuid.uuid4().int % 1000
    alerts = [
        {
            "id": f"storm-{run}-{n}",
            "title": "Brute force against SSH",
            "severity": "low",
            "src_ip": attacker(n % args.attackers, run),
            "host": f"web-{n % 7:02d}",
        }
        for n in range(args.alerts)
    ]
    prefix = f"ip:45.{run % 200 + 10}."
    began = time.perf_counter()
    await post_batches(base, alerts, batch=100, clients=4)
    accepted = time.perf_counter() - began
    print(f"storm: {args.alerts} alerts accepted in {accepted:.1f} s")
    while True:
        cases = await cases_by_key(base, prefix)
        if sum(cases.values()) >= args.alerts or time.perf_counter() - began > args.timeout:
            break
        await asyncio.sleep(1)
    elapsed = time.perf_counter() - began
    attached = sum(cases.values())
    print(
        f"storm: {attached} alerts triaged and correlated into {len(cases)} cases "
        f"(attackers: {args.attackers}) in {elapsed:.1f} s = {attached / elapsed:.0f} alerts/s"
    )
    if attached >= args.alerts:
        print(f"storm: alerts lost: {args.alerts - attached} (every alert is on a case)")
    else:
        print(
            f"storm: not settled after {args.timeout:.0f} s: {args.alerts - attached} alerts "
            "not correlated yet (in flight, not known to be lost; raise --timeout)"
        )


async def waiting_cases(base: str, args: argparse.Namespace, worker_pid: int) -> None:
    run = uuid.uuid4().int % 1000 + 1000
    alerts = [
        {
            "id": f"wait-{run}-{n}",
            "title": "Outbound connection to known C2",
            "severity": "high",
            "src_ip": attacker(n, run),
        }
        for n in range(args.waiting)
    ]
    before = rss_mib(worker_pid)
    await post_batches(base, alerts, batch=100, clients=4)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    began = time.perf_counter()
    pending = 0
    async with httpx.AsyncClient(timeout=60) as http:
        while time.perf_counter() - began < args.timeout:
            pending = await pending_approvals(http, base, headers)
            if pending >= args.waiting:
                break
            await asyncio.sleep(1)
    await asyncio.sleep(2)
    print(
        f"waiting: {pending} cases each waiting for a decision; worker RSS "
        f"{rss_mib(worker_pid):.0f} MiB (was {before:.0f} MiB before them)"
    )


async def pending_approvals(http: httpx.AsyncClient, base: str, headers: dict[str, str]) -> int:
    """Pending approval requests, counted page by page through the operator API."""
    total, offset = 0, 0
    while True:
        page = (
            await http.get(
                f"{base}/api/approvals",
                params={"state": "pending", "limit": 500, "offset": offset},
                headers=headers,
            )
        ).json()
        total += len(page)
        if len(page) < 500:
            return total
        offset += 500


def main(args: argparse.Namespace) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="soar-storm-"))
    temporal_port, api_port = free_port(), free_port()
    env = os.environ | {
        "SOAR_DATA_DIR": str(data_dir),
        "SOAR_CONFIG": str(data_dir / "soar.toml"),
        "SOAR_WEBHOOK_TOKEN": TOKEN,
        "SOAR_API_TOKEN": TOKEN,
        "SOAR_API_PORT": str(api_port),
        "SOAR_TEMPORAL__ADDRESS": f"127.0.0.1:{temporal_port}",
        "SOAR_APPROVALS__DECIDERS": '["U0BENCH"]',
    }
    server = EmbeddedTemporal(
        db_file=data_dir / "temporal.sqlite3",
        port=temporal_port,
        ui_port=None,
        sqlite_pragmas={"journal_mode": "wal", "synchronous": "normal"},
    )
    soar = str(Path(sys.executable).parent / "soar")
    loop = asyncio.new_event_loop()
    loop.run_until_complete(server.start())
    worker = subprocess.Popen([soar, "worker"], env=env, stdout=subprocess.DEVNULL)
    api = subprocess.Popen([soar, "api"], env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{api_port}"
    try:
        loop.run_until_complete(wait_ready(base))
        print(f"worker RSS at start: {rss_mib(worker.pid):.0f} MiB")
        loop.run_until_complete(storm(base, args))
        if args.waiting:
            loop.run_until_complete(waiting_cases(base, args, worker.pid))
    finally:
        for process in (api, worker):
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
        loop.run_until_complete(server.stop())
        loop.close()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--attackers", type=int, default=50)
    parser.add_argument("--waiting", type=int, default=1000)
    parser.add_argument("--timeout", type=float, default=1200)
    main(parser.parse_args())

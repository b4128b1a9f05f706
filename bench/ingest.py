"""Ingestion benchmark: alerts/s and latency through the running stack, against the
ceiling of a bare Temporal client on the same server, then a 10,000-alert burst.

Starts `soar up` on free loopback ports in a temporary data directory, so it measures
the product as shipped (embedded Temporal with its default SQLite tuning, worker, API).
The steady part runs in rounds: the ceiling, then the same number of alerts through the
API, then a wait until every alert of the round is on its case, so each round starts
from a quiet stack. A shared machine's speed drifts from minute to minute, so the
verdict is on the median round. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
from common import free_port, percentile, wait_ready
from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

TOKEN = "bench-token"
TARGET_RATE = 150
TARGET_RATIO = 0.7
RETRIES = 5


@workflow.defn(name="BenchTrivial")
class TrivialWorkflow:
    @workflow.run
    async def run(self, value: str) -> str:
        return value


async def ceiling(address: str, count: int, concurrency: int) -> float:
    """Starts/s of a bare client starting trivial workflows (with a worker running them)."""
    client = await Client.connect(address)
    queue = f"bench-ceiling-{uuid.uuid4().hex[:6]}"
    slots = asyncio.Semaphore(concurrency)

    async def start(n: int) -> None:
        async with slots:
            await client.start_workflow(
                TrivialWorkflow.run,
                str(n),
                id=f"{queue}-{n}",
                task_queue=queue,
                run_timeout=timedelta(minutes=5),
            )

    async with Worker(
        client,
        task_queue=queue,
        workflows=[TrivialWorkflow],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        began = time.perf_counter()
        await asyncio.gather(*(start(n) for n in range(count)))
        elapsed = time.perf_counter() - began
    return count / elapsed


def alert(run: str, n: int) -> dict[str, object]:
    return {
        "id": f"{run}-{n}",
        "title": f"Brute force from 203.0.113.{n % 250}",
        "severity": ("low", "medium", "high", "critical")[n % 4],
        "src_ip": f"203.0.113.{n % 250}",
        "host": f"web-{n % 20:02d}",
        "user": f"user{n % 50}",
        "description": "Many failed logins, then a success",
    }


async def drive(
    base: str, run: str, count: int, concurrency: int
) -> tuple[float, list[float], int, int]:
    """Post `count` alerts from `concurrency` clients; returns rate, latencies, queued, and
    how many posts were sent again after a connection error (as a SIEM that retries
    would: a redelivery is harmless by design)."""
    latencies: list[float] = []
    queued = retried = 0
    next_index = 0
    headers = {"Authorization": f"Bearer {TOKEN}"}

    async def post(http: httpx.AsyncClient, n: int) -> httpx.Response:
        nonlocal retried
        for attempt in range(RETRIES):
            try:
                return await http.post(
                    f"{base}/webhooks/generic", json=alert(run, n), headers=headers
                )
            except httpx.TransportError:
                if attempt == RETRIES - 1:
                    raise
                retried += 1
        raise AssertionError("unreachable")

    async def client_loop(http: httpx.AsyncClient) -> None:
        nonlocal next_index, queued
        while next_index < count:
            n = next_index
            next_index += 1
            began = time.perf_counter()
            answer = await post(http, n)
            latencies.append(time.perf_counter() - began)
            if answer.status_code != 202:
                raise SystemExit(f"unexpected {answer.status_code}: {answer.text}")
            queued += sum(a["queued"] for a in answer.json()["accepted"])

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60) as http:
        began = time.perf_counter()
        await asyncio.gather(*(client_loop(http) for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return count / elapsed, latencies, queued, retried


def recorded_alerts(data_dir: Path, run: str, *, on_case: bool = False) -> int:
    """Alerts of this run recorded in the case store (`on_case`: and that their case has
    taken in)."""
    query = "SELECT COUNT(*) FROM alerts WHERE dedup_key LIKE ?"
    if on_case:
        query += " AND case_id IS NOT NULL"
    with sqlite3.connect(data_dir / "soar.sqlite3") as db:
        (count,) = db.execute(query, (f"generic:{run}-%",)).fetchone()
    return int(count)


def attachments(data_dir: Path) -> tuple[int, int]:
    """`alert_attached` timeline entries in the store, and the distinct alerts they name."""
    query = (
        "SELECT COUNT(*), COUNT(DISTINCT json_extract(data, '$.alert_id')) "
        "FROM timeline_events WHERE kind = 'alert_attached'"
    )
    with sqlite3.connect(data_dir / "soar.sqlite3") as db:
        attached, distinct = db.execute(query).fetchone()
    return int(attached), int(distinct)


async def wait_on_cases(data_dir: Path, run: str, count: int, within: float) -> float | None:
    """Seconds until all `count` alerts of `run` are on their case; None on timeout."""
    began = time.perf_counter()
    while recorded_alerts(data_dir, run, on_case=True) < count:
        if time.perf_counter() - began > within:
            return None
        await asyncio.sleep(0.5)
    return time.perf_counter() - began


async def steady_round(
    args: argparse.Namespace, base: str, address: str, data_dir: Path
) -> tuple[float, float]:
    """One round: the ceiling, then as many alerts through the API; returns both rates."""
    top = await ceiling(address, args.count, args.concurrency)
    run = uuid.uuid4().hex[:8]
    rate, latencies, queued, retried = await drive(base, run, args.count, args.concurrency)
    p50, p99 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000
    settled = await wait_on_cases(data_dir, run, args.count, args.drain_timeout)
    print(
        f"  ceiling {top:.0f} starts/s; ingest {rate:.0f} alerts/s (ratio {rate / top:.2f}), "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, queued {queued}, resent {retried}; "
        + (
            f"all on their case {settled:.1f} s after the last 202"
            if settled is not None
            else "NOT all on their case before the drain timeout"
        )
    )
    return top, rate


async def measure(args: argparse.Namespace, base: str, address: str, data_dir: Path) -> None:
    """Ceiling, steady ingest, then the burst; prints each figure as it is measured."""
    await wait_ready(base)
    print(f"stack up: API {base}, Temporal {address}")
    print(
        f"steady: {args.rounds} rounds of {args.count} alerts from {args.concurrency} clients "
        "against the ceiling of a bare client starting as many trivial workflows"
    )
    rounds = [await steady_round(args, base, address, data_dir) for _ in range(args.rounds)]
    top = statistics.median(t for t, _ in rounds)
    rate = statistics.median(r for _, r in rounds)
    ratio = statistics.median(r / t for t, r in rounds)
    met = rate >= TARGET_RATE and ratio >= TARGET_RATIO
    print(
        f"median: ceiling {top:.0f} starts/s, ingest {rate:.0f} alerts/s, ratio {ratio:.2f} "
        f"(target: >= {TARGET_RATE} alerts/s and >= {TARGET_RATIO} of the ceiling: "
        f"{'met' if met else 'NOT met'})"
    )
    if not args.burst:
        return
    run = uuid.uuid4().hex[:8]
    began = time.perf_counter()
    burst_rate, burst_latencies, burst_queued, burst_retried = await drive(
        base, run, args.burst, args.burst_concurrency
    )
    sent = time.perf_counter() - began
    print(
        f"burst: {args.burst} alerts accepted in {sent:.1f} s ({burst_rate:.0f}/s, "
        f"p99 {percentile(burst_latencies, 0.99) * 1000:.0f} ms), {burst_queued} queued, "
        f"resent after errors {burst_retried}"
    )
    await wait_on_cases(data_dir, run, args.burst, args.drain_timeout)
    recorded = recorded_alerts(data_dir, run)
    on_case = recorded_alerts(data_dir, run, on_case=True)
    total = time.perf_counter() - began
    print(
        f"burst: {recorded}/{args.burst} alerts recorded, {on_case} on their case; drain "
        f"took {total - sent:.1f} s after the last 202 ({total:.1f} s in all)"
    )
    attached, distinct = attachments(data_dir)
    print(
        f"case timelines: {attached} alert attachments for {distinct} distinct alerts "
        f"(attached twice: {attached - distinct})"
    )


def main(args: argparse.Namespace) -> None:
    """Start `soar up` on free ports in a temporary directory, measure, stop it."""
    data_dir = Path(tempfile.mkdtemp(prefix="soar-bench-"))
    temporal_port, ui_port, api_port = free_port(), free_port(), free_port()
    env = os.environ | {
        "SOAR_DATA_DIR": str(data_dir),
        "SOAR_CONFIG": str(data_dir / "soar.toml"),
        "SOAR_WEBHOOK_TOKEN": TOKEN,
        "SOAR_API_TOKEN": TOKEN,
        "SOAR_API_PORT": str(api_port),
        "SOAR_TEMPORAL__PORT": str(temporal_port),
        "SOAR_TEMPORAL__UI_PORT": str(ui_port),
    }
    soar = Path(sys.executable).parent / "soar"
    process = subprocess.Popen([str(soar), "up"], env=env, stdout=subprocess.DEVNULL)
    try:
        asyncio.run(
            measure(args, f"http://127.0.0.1:{api_port}", f"127.0.0.1:{temporal_port}", data_dir)
        )
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--burst", type=int, default=10_000)
    parser.add_argument("--burst-concurrency", type=int, default=64)
    parser.add_argument("--drain-timeout", type=float, default=900)
    main(parser.parse_args())

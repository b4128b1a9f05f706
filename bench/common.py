"""Helpers the benchmark scripts share: the product started as separate processes, the bare
Temporal ceiling measured on the same server, the worker's SDK metrics, resident memory,
pacing and percentiles.

Every benchmark prints what it measured and asserts nothing. Each compares the product
with a bare Temporal client on the same embedded server in the same run, because a shared
machine's speed drifts from minute to minute: the ratio is what carries from run to run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine
from temporalio import workflow
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from soar.runtime.temporal_server import EmbeddedTemporal

TOKEN = "bench-token"
METRICS_VARIABLE = "SOAR_TEMPORAL__METRICS_ADDRESS"
"""Where `soar worker` serves the Temporal SDK's metrics (soar/runtime/metrics.py)."""
TASK_HISTOGRAM = "temporal_workflow_task_execution_latency"
STOP_SECONDS = 60
RESULT_WAITS = 32
"""Workflow results awaited at once: each is a long poll, and the dev server refuses more
than a few hundred of those at a time in a namespace."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def attacker(n: int, run: int) -> str:
    """Public-looking addresses (data only: nothing is ever sent to them)."""
    return f"45.{run % 200 + 10}.{n // 250}.{n % 250 + 1}"


def rss_mib(pid: int) -> float:
    """Resident memory of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def paced(count: int, rate: float, send: Callable[[int], Awaitable[None]]) -> None:
    """Call `send(n)` for n in range(count), `rate` a second, without waiting for answers."""
    began = time.monotonic()
    tasks = []
    for n in range(count):
        delay = began + n / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(n)))
    await asyncio.gather(*tasks)


async def wait_ready(base: str, within: float = 90) -> None:
    """Wait until the API at `base` answers /readyz with 200 (Temporal reachable)."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient() as http:
        while time.monotonic() < deadline:
            try:
                if (await http.get(f"{base}/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.3)
    raise SystemExit("the stack did not become ready")


# --- the product, as separate processes ------------------------------------------------


@dataclass
class Product:
    """The running product: its API, its worker processes (the first serves its SDK
    metrics), where those metrics are."""

    base: str
    temporal: str
    data_dir: Path
    workers: list[subprocess.Popen[bytes]]
    api: subprocess.Popen[bytes]
    metrics_url: str

    @property
    def worker(self) -> subprocess.Popen[bytes]:
        """The first worker process, the one serving metrics."""
        return self.workers[0]

    @property
    def headers(self) -> dict[str, str]:
        """The bearer token of both the webhooks and the operator API."""
        return {"Authorization": f"Bearer {TOKEN}"}


def bench_dir(prefix: str) -> Path:
    """A fresh temporary data directory; write its `soar.toml` before starting the product."""
    return Path(tempfile.mkdtemp(prefix=prefix))


def _spawn(command: str, env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "soar", command],
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


async def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM and wait in a thread, so what this process serves (emulators, a fake Slack)
    keeps answering calls in flight meanwhile; SIGKILL past the grace period."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        await asyncio.to_thread(process.wait, STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        await asyncio.to_thread(process.wait)


@contextlib.asynccontextmanager
async def running_product(
    data_dir: Path, extra_env: Mapping[str, str] | None = None, *, workers: int = 1
) -> AsyncIterator[Product]:
    """The embedded Temporal (SQLite in WAL), `workers` `soar worker` processes (the first
    serving its SDK metrics) and `soar api` on free loopback ports, configured by
    `data_dir/soar.toml` if written (and `extra_env`: `SOAR_DATABASE_URL` for a store
    several workers share well).
    The directory is removed afterwards, unless the run failed: then its logs are kept
    (worker.log, api.log, temporal.log) and the path is printed."""
    temporal_port, api_port, metrics_port = free_port(), free_port(), free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SOAR_", "SLACK_", "TEMPORAL_"))
    } | {
        "SOAR_DATA_DIR": str(data_dir),
        "SOAR_CONFIG": str(data_dir / "soar.toml"),
        "SOAR_WEBHOOK_TOKEN": TOKEN,
        "SOAR_API_TOKEN": TOKEN,
        "SOAR_API_PORT": str(api_port),
        "SOAR_TEMPORAL__ADDRESS": f"127.0.0.1:{temporal_port}",
    }
    env |= extra_env or {}
    server = EmbeddedTemporal(
        db_file=data_dir / "temporal.sqlite3",
        port=temporal_port,
        ui_port=None,
        sqlite_pragmas={"journal_mode": "wal", "synchronous": "normal"},
        log_file=data_dir / "temporal.log",
    )
    await server.start()
    metrics = {METRICS_VARIABLE: f"127.0.0.1:{metrics_port}"}
    spawned = [
        _spawn("worker", env | (metrics if n == 0 else {}), data_dir / f"worker{n or ''}.log")
        for n in range(workers)
    ]
    api = _spawn("api", env, data_dir / "api.log")
    failed = True
    try:
        base = f"http://127.0.0.1:{api_port}"
        await wait_ready(base)
        for name, process in [("api", api), *(("worker", w) for w in spawned)]:
            if process.poll() is not None:
                raise SystemExit(f"soar {name} exited with code {process.returncode}")
        yield Product(
            base,
            server.address,
            data_dir,
            spawned,
            api,
            f"http://127.0.0.1:{metrics_port}/metrics",
        )
        failed = False
    finally:
        await _stop(api)
        await asyncio.gather(*(_stop(w) for w in spawned))
        await server.stop()
        if failed:
            print(f"(logs kept in {data_dir})", file=sys.stderr)
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


async def post_batches(
    base: str, alerts: list[dict[str, object]], batch: int, clients: int
) -> list[tuple[float, float, list[str]]]:
    """POST the alerts to /webhooks/generic, `batch` to a request, `clients` requests at a
    time. Returns each request's (sent, answered) perf_counter times and the ids the
    product gave its alerts (the 202's `alert_id`s, in the order sent), oldest first."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    chunks = [alerts[i : i + batch] for i in range(0, len(alerts), batch)]
    slots = asyncio.Semaphore(clients)
    requests: list[tuple[float, float, list[str]]] = []
    async with httpx.AsyncClient(timeout=120) as http:

        async def send(chunk: list[dict[str, object]]) -> None:
            async with slots:
                sent = time.perf_counter()
                answer = await http.post(f"{base}/webhooks/generic", json=chunk, headers=headers)
                if answer.status_code != 202 or answer.json()["rejected"]:
                    raise SystemExit(f"unexpected answer {answer.status_code}: {answer.text[:300]}")
                ids = [str(accepted["alert_id"]) for accepted in answer.json()["accepted"]]
                requests.append((sent, time.perf_counter(), ids))

        await asyncio.gather(*(send(chunk) for chunk in chunks))
    return sorted(requests)


@dataclass
class RunCases:
    """The cases holding a run's alerts (by the ids the webhook answered with), found
    through the operator API without relying on how correlation keys are spelled. Make it
    once every 202 of the run is in: a case is judged by its most recent alert, once."""

    alert_ids: frozenset[str]
    ours: set[str] = field(default_factory=set)
    others: set[str] = field(default_factory=set)

    async def counts(self, http: httpx.AsyncClient, base: str) -> dict[str, int]:
        """alert_count of each of the run's cases, as the case list shows it now."""
        headers = {"Authorization": f"Bearer {TOKEN}"}
        found: dict[str, int] = {}
        offset = 0
        while True:
            page = (
                await http.get(
                    f"{base}/api/cases", params={"limit": 500, "offset": offset}, headers=headers
                )
            ).json()
            for case in page:
                if case["id"] not in self.ours | self.others:
                    await self._classify(http, base, case["id"])
                if case["id"] in self.ours:
                    found[case["id"]] = case["alert_count"]
            if len(page) < 500:
                return found
            offset += 500

    async def _classify(self, http: httpx.AsyncClient, base: str, case_id: str) -> None:
        detail = (
            await http.get(
                f"{base}/api/cases/{case_id}",
                params={"alert_limit": 1},
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
        ).json()
        alerts = detail.get("alerts") or []
        if alerts:
            (self.ours if alerts[0]["id"] in self.alert_ids else self.others).add(case_id)


# --- the bare Temporal ceiling ---------------------------------------------------------


@workflow.defn(name="BenchNoop")
class NoopWorkflow:
    """Does nothing: a start and its completion are all a bare client costs the server."""

    @workflow.run
    async def run(self) -> None:
        return None


@workflow.defn(name="BenchAwaitUpdate")
class AwaitUpdateWorkflow:
    """Waits for one Update, then ends: the bare cost of a decision reaching a workflow."""

    def __init__(self) -> None:
        self._done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self._done)

    @workflow.update
    def finish(self) -> None:
        self._done = True


class BareTemporal:
    """A plain client and a worker of this process on a task queue of its own, on the same
    server as the product: what Temporal alone does on this machine right now."""

    def __init__(self, client: Client, queue: str) -> None:
        self.client = client
        self.queue = queue

    @classmethod
    @contextlib.asynccontextmanager
    async def on(cls, address: str) -> AsyncIterator[BareTemporal]:
        client = await Client.connect(address)
        queue = f"bench-bare-{uuid.uuid4().hex[:8]}"
        async with Worker(
            client,
            task_queue=queue,
            workflows=[NoopWorkflow, AwaitUpdateWorkflow],
            workflow_runner=UnsandboxedWorkflowRunner(),
        ):
            yield cls(client, queue)

    async def _start(self, kind: Any, n: int) -> WorkflowHandle[Any, Any]:
        return await self.client.start_workflow(
            kind,
            id=f"{self.queue}-{n}",
            task_queue=self.queue,
            run_timeout=timedelta(minutes=30),
        )

    async def start_ceiling(self, count: int, concurrency: int) -> float:
        """Starts/s of `count` no-op workflows started `concurrency` at a time (timed over
        the starts; each also completes, on this process's worker, before this returns)."""
        slots = asyncio.Semaphore(concurrency)
        base = uuid.uuid4().int % 10**9

        async def start(n: int) -> WorkflowHandle[Any, Any]:
            async with slots:
                return await self._start(NoopWorkflow.run, base + n)

        async def finished(handle: WorkflowHandle[Any, Any]) -> None:
            async with waits:
                await handle.result()

        began = time.perf_counter()
        handles = await asyncio.gather(*(start(n) for n in range(count)))
        elapsed = time.perf_counter() - began
        waits = asyncio.Semaphore(RESULT_WAITS)
        await asyncio.gather(*(finished(handle) for handle in handles))
        return count / elapsed

    async def start_round_trips(self, count: int, rate: float) -> list[float]:
        """Seconds from asking a start to the no-op workflow's completion, `rate` a second."""
        base = uuid.uuid4().int % 10**9
        latencies: list[float] = []

        async def one(n: int) -> None:
            began = time.perf_counter()
            await (await self._start(NoopWorkflow.run, base + n)).result()
            latencies.append(time.perf_counter() - began)

        await paced(count, rate, one)
        return latencies

    async def update_round_trips(self, count: int, rate: float) -> list[float]:
        """Seconds of an Update round trip to a waiting workflow, `rate` a second."""
        base = uuid.uuid4().int % 10**9
        handles = [await self._start(AwaitUpdateWorkflow.run, base + n) for n in range(count)]
        latencies: list[float] = []

        async def one(n: int) -> None:
            began = time.perf_counter()
            await handles[n].execute_update(AwaitUpdateWorkflow.finish)
            latencies.append(time.perf_counter() - began)

        await paced(count, rate, one)
        return latencies


# --- the worker's SDK metrics ----------------------------------------------------------

_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][\w:]*)\{(?P<labels>[^}]*)\}\s+(?P<value>\S+)$")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


@dataclass
class TaskLatencies:
    """The worker's workflow task execution histogram, per workflow type: cumulative
    counts by upper bound in ms (math.inf for +Inf), and the sum of durations in ms."""

    buckets: dict[str, dict[float, float]] = field(default_factory=dict)
    sums: dict[str, float] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> TaskLatencies:
        """From the Prometheus text the worker serves (task queues added together)."""
        found = cls()
        for line in text.splitlines():
            sample = _SAMPLE.match(line.strip())
            if not sample or not sample["name"].startswith(TASK_HISTOGRAM):
                continue
            labels = dict(_LABEL.findall(sample["labels"]))
            kind, value = labels.get("workflow_type", "?"), float(sample["value"])
            if sample["name"] == f"{TASK_HISTOGRAM}_bucket":
                bound = float(labels["le"].replace("+Inf", "inf"))
                counts = found.buckets.setdefault(kind, {})
                counts[bound] = counts.get(bound, 0) + value
            elif sample["name"] == f"{TASK_HISTOGRAM}_sum":
                found.sums[kind] = found.sums.get(kind, 0) + value
        return found

    def since(self, before: TaskLatencies) -> TaskLatencies:
        """What was added after `before` was read."""
        return TaskLatencies(
            {
                kind: {b: n - before.buckets.get(kind, {}).get(b, 0) for b, n in counts.items()}
                for kind, counts in self.buckets.items()
            },
            {kind: s - before.sums.get(kind, 0) for kind, s in self.sums.items()},
        )

    def count(self, kind: str) -> float:
        return max(self.buckets[kind].values(), default=0)

    def over(self, kind: str, ms: float) -> float:
        """Tasks longer than `ms` (which must be a bucket bound)."""
        return self.count(kind) - self.buckets[kind].get(ms, 0)

    def longest(self, kind: str) -> tuple[float, float]:
        """The bucket (lower, upper bound in ms) the longest task fell in ((0, 0): none ran)."""
        lower, previous = 0.0, 0.0
        span = (0.0, 0.0)
        for bound, cumulative in sorted(self.buckets[kind].items()):
            if cumulative > previous:
                span = (lower, bound)
            lower, previous = bound, cumulative
        return span


def _span(span: tuple[float, float]) -> str:
    lower, upper = span
    return f"over {lower:,.0f} ms" if upper == float("inf") else f"{lower:,.0f} to {upper:,.0f} ms"


async def scrape(url: str) -> str | None:
    """The worker's metrics text, or None when nothing answers there."""
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            answer = await http.get(url)
    except httpx.HTTPError:
        return None
    return answer.text if answer.status_code == 200 else None


def describe_task_latencies(delta: TaskLatencies, what: str) -> list[str]:
    """Lines saying the longest workflow task during `what`, per type and in all, with how
    many took over a second."""
    kinds = [kind for kind in delta.buckets if delta.count(kind) > 0]
    if not kinds:
        return [f"longest workflow task during {what}: no workflow task ran"]
    spans = {kind: delta.longest(kind) for kind in kinds}
    worst = max(kinds, key=lambda kind: spans[kind])
    total = sum(delta.count(kind) for kind in kinds)
    over = sum(delta.over(kind, 1000.0) for kind in kinds)
    lines = [
        f"longest workflow task during {what}: {_span(spans[worst])} "
        f"({worst}; from the worker's SDK histogram {TASK_HISTOGRAM}); "
        f"tasks over 1 s: {over:.0f} of {total:.0f}"
    ]
    for kind in sorted(kinds, key=lambda k: -delta.count(k)):
        mean = delta.sums.get(kind, 0) / delta.count(kind)
        lines.append(
            f"  {kind}: {delta.count(kind):.0f} tasks, mean {mean:.0f} ms, "
            f"longest {_span(spans[kind])}, over 1 s: {delta.over(kind, 1000.0):.0f}"
        )
    return lines


NO_METRICS = (
    "longest workflow task: not measured — the worker serves no SDK metrics at {url} "
    f"(it needs {METRICS_VARIABLE}, soar/runtime/metrics.py); the embedded dev server's "
    "own metrics (--metrics-port) have no per-task execution time, only the SDK measures it"
)


@contextlib.asynccontextmanager
async def database(url: str | None) -> AsyncIterator[dict[str, str]]:
    """The environment that points the product at a fresh PostgreSQL database made on
    the server of `url` (dropped afterwards); empty (SQLite) without a URL."""
    if url is None:
        yield {}
        return
    name = f"soar_bench_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        own = make_url(url).set(database=name).render_as_string(hide_password=False)
        yield {"SOAR_DATABASE_URL": own}
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()

"""Enrichment benchmark: an alert storm with four threat-intel sources configured against
their emulators, and the same storm with none, in one run.

1,000 alerts (default) about 100 distinct public addresses go through the product as
in production — the embedded Temporal server, `soar worker` and `soar api` as separate
processes on free loopback ports, in a temporary data directory — first with no
enrichment source, then with AbuseIPDB, GreyNoise, Shodan and OTX configured against
their emulators (served by this process; a fifth of the addresses are known as bad),
in rounds (2 by default), each phase on a fresh worker and API and new addresses. Each
phase is timed from the first webhook to the last alert attached to its case.

Prints, for the enriched phase, the calls each emulator received and the share of
lookups answered without a call (the cache and coalescing: the best possible is one
call per distinct address), and the storm's throughput with enrichment divided by
without. Asserts nothing.
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
from pathlib import Path
from typing import Protocol

from common import free_port, wait_ready
from storm import TOKEN, cases_by_key, post_batches

from soar.runtime.temporal_server import EmbeddedTemporal
from soar.testing.emulators.abuseipdb import AbuseIpdbEmulator
from soar.testing.emulators.base import EmulatorCall
from soar.testing.emulators.greynoise import GreyNoiseEmulator
from soar.testing.emulators.otx import OtxEmulator
from soar.testing.emulators.shodan import ShodanEmulator

SOURCES = ("abuseipdb", "greynoise", "shodan", "otx")


class Intel(Protocol):
    """What the benchmark uses of a threat-intel emulator."""

    key: str
    calls: list[EmulatorCall]

    @property
    def base_url(self) -> str: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def address(n: int, run: int) -> str:
    """Public-looking addresses (data only: nothing is ever sent to them)."""
    return f"45.{run + 10}.{n // 250}.{n % 250 + 1}"


def emulators(addresses: list[str]) -> dict[str, Intel]:
    """The four services, a fifth of the addresses known as bad to each."""
    abuse = AbuseIpdbEmulator(daily_limit=100_000)
    noise = GreyNoiseEmulator(daily_limit=100_000)
    shodan = ShodanEmulator()
    otx = OtxEmulator()
    for bad in addresses[::5]:
        abuse.add_ip(bad, score=96, reports=120, users=40)
        noise.add_ip(bad, classification="malicious", name="Mirai")
        shodan.add_host(bad, ports=(23, 2323), tags=("compromised",))
        otx.add_indicator("IPv4", bad, pulses=["Mirai botnet C2"], malware_families=["Mirai"])
    return {"abuseipdb": abuse, "greynoise": noise, "shodan": shodan, "otx": otx}


def config(path: Path, data_dir: Path, services: dict[str, Intel] | None) -> None:
    """`soar.toml` for a phase: the sources (all marked green, so each may be asked), or
    none. Each source may make 6,000 calls a minute: the limiter runs, the emulators are
    the bottleneck if anything is."""
    lines = [f'data_dir = "{data_dir}"', "[enrichment]", 'default_tlp = "green"']
    for name, service in (services or {}).items():
        lines += [
            f"[enrichment.providers.{name}]",
            f'type = "{name}"',
            f"[enrichment.providers.{name}.options]",
            f'base_url = "{service.base_url}"',
            f'api_key = "{service.key}"',
            "requests_per_minute = 6000",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


async def storm(base: str, alerts: int, addresses: list[str], run: int, within: float) -> float:
    """Post the storm and wait until every alert is on a case; its throughput (alerts/s)."""
    bodies: list[dict[str, object]] = [
        {
            "id": f"enrich-{run}-{n}",
            "title": "Brute force against SSH",
            "severity": "low",
            "src_ip": addresses[n % len(addresses)],
            "host": f"web-{n % 7:02d}",
        }
        for n in range(alerts)
    ]
    prefix = f"ip:45.{run + 10}."
    began = time.perf_counter()
    await post_batches(base, bodies, batch=100, clients=4)
    attached = 0
    while time.perf_counter() - began < within:
        attached = sum((await cases_by_key(base, prefix)).values())
        if attached >= alerts:
            break
        await asyncio.sleep(0.25)
    elapsed = time.perf_counter() - began
    if attached < alerts:
        print(f"  not settled after {within:.0f} s: {alerts - attached} alerts not on a case yet")
    return attached / elapsed


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], subprocess.Popen[bytes]]:
    soar = str(Path(sys.executable).parent / "soar")
    worker = subprocess.Popen([soar, "worker"], env=env, stdout=subprocess.DEVNULL)
    api = subprocess.Popen([soar, "api"], env=env, stdout=subprocess.DEVNULL)
    return worker, api


async def stop(*processes: subprocess.Popen[bytes]) -> None:
    """Stop the processes, serving the emulators meanwhile (a call may be in flight)."""
    for process in processes:
        process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(process.wait, 60)


async def phase(
    run: int,
    name: str,
    env: dict[str, str],
    data_dir: Path,
    services: dict[str, Intel] | None,
    args: argparse.Namespace,
) -> float:
    """Storm number `run` (its own addresses and cases) on a fresh worker and API
    configured with `services` (or none)."""
    addresses = [address(n, run) for n in range(args.addresses)]
    if services is not None:
        services.update(emulators(addresses))
        for service in services.values():
            await service.start()
    config(Path(env["SOAR_CONFIG"]), data_dir, services)
    worker, api = start(env)
    try:
        await wait_ready(f"http://127.0.0.1:{env['SOAR_API_PORT']}")
        idle = cpu_seconds(worker.pid)
        rate = await storm(
            f"http://127.0.0.1:{env['SOAR_API_PORT']}", args.alerts, addresses, run, args.timeout
        )
        busy = cpu_seconds(worker.pid) - idle
    finally:
        await stop(api, worker)
        for service in (services or {}).values():
            await service.stop()
    print(
        f"{name}: {args.alerts} alerts about {args.addresses} addresses at {rate:.0f} alerts/s "
        f"(worker CPU {busy:.1f} s)"
    )
    return rate


async def bench(env: dict[str, str], data_dir: Path, args: argparse.Namespace) -> None:
    """`args.rounds` rounds of the storm without and then with the four sources; the
    figures are over every round (a shared machine's speed drifts from minute to minute)."""
    seconds = {"off": 0.0, "on": 0.0}
    calls = dict.fromkeys(SOURCES, 0)
    for round_ in range(1, args.rounds + 1):
        seconds["off"] += args.alerts / await phase(
            2 * round_, f"round {round_}, enrichment off", env, data_dir, None, args
        )
        services: dict[str, Intel] = {}
        seconds["on"] += args.alerts / await phase(
            2 * round_ + 1, f"round {round_}, enrichment on ", env, data_dir, services, args
        )
        for name in SOURCES:
            calls[name] += len(services[name].calls)
    lookups = args.alerts * args.rounds
    print(
        f"calls per source ({lookups} lookups each, {args.addresses} distinct addresses a round):"
    )
    spared = []
    for name in SOURCES:
        spared.append(1 - calls[name] / lookups)
        print(
            f"  {name:10} {calls[name]:5} calls, {spared[-1]:.1%} of lookups answered without one"
        )
    print(f"cache hit rate: {min(spared):.1%} (lowest of the four; goal >= 90 %)")
    ratio = seconds["off"] / seconds["on"]
    print(f"throughput with enrichment / without: {ratio:.2f} (goal >= 0.8)")


def main(args: argparse.Namespace) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="soar-enrichment-bench-"))
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
    loop = asyncio.new_event_loop()
    loop.run_until_complete(server.start())
    try:
        loop.run_until_complete(bench(env, data_dir, args))
    finally:
        loop.run_until_complete(server.stop())
        loop.close()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alerts", type=int, default=1000)
    parser.add_argument("--addresses", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--rounds", type=int, default=2)
    main(parser.parse_args())

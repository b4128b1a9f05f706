"""Memory benchmark: the worker's resident memory with 1,000 cases each waiting for a
decision, then sampled every minute over a soak at 5 alerts/s (an hour by default).

Runs the product as separate processes, as in production: the embedded Temporal server,
`soar worker` and `soar api`, on free loopback ports in a temporary data directory.

1. Waiting cases: `--waiting` high-severity alerts, each about an attacker of its own,
   so each opens a case whose playbook asks for an approval nobody gives. Worker RSS
   before them, and once every approval is pending and every alert is on its case.
2. Soak: `--rate` low-severity alerts a second about `--attackers` attackers (one alert
   to a request, as a SIEM forwarding one by one sends them) for `--minutes`, on top of
   the waiting cases. Worker RSS sampled every `--sample-seconds`: min, max, first, last
   and the drift (last over first). Then how many of the soak's alerts are on their case,
   so a soak the pipeline could not keep up with shows as one.

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

import httpx
from common import (
    Product,
    RunCases,
    attacker,
    bench_dir,
    paced,
    post_batches,
    rss_mib,
    running_product,
)

PAGE = 500


async def pending_approvals(http: httpx.AsyncClient, product: Product) -> int:
    """Pending approval requests, counted page by page through the operator API."""
    total, offset = 0, 0
    while True:
        page = (
            await http.get(
                f"{product.base}/api/approvals",
                params={"state": "pending", "limit": PAGE, "offset": offset},
                headers=product.headers,
            )
        ).json()
        total += len(page)
        if len(page) < PAGE:
            return total
        offset += PAGE


async def on_cases(http: httpx.AsyncClient, product: Product, cases: RunCases) -> int:
    return sum((await cases.counts(http, product.base)).values())


async def waiting_cases(product: Product, args: argparse.Namespace) -> set[str]:
    """Open the waiting cases and print the worker's RSS before and after; their ids."""
    run = uuid.uuid4().int % 1000
    alerts: list[dict[str, object]] = [
        {
            "id": f"wait-{run}-{n}",
            "title": "Outbound connection to known C2",
            "severity": "high",
            "src_ip": attacker(n, run),
        }
        for n in range(args.waiting)
    ]
    before = rss_mib(product.worker.pid)
    began = time.perf_counter()
    requests = await post_batches(product.base, alerts, batch=100, clients=4)
    cases = RunCases(frozenset(alert_id for _, _, ids in requests for alert_id in ids))
    pending = attached = 0
    async with httpx.AsyncClient(timeout=60) as http:
        while time.perf_counter() - began < args.timeout:
            pending = await pending_approvals(http, product)
            attached = await on_cases(http, product, cases)
            if pending >= args.waiting and attached >= args.waiting:
                break
            await asyncio.sleep(1)
    after = rss_mib(product.worker.pid)
    settled = "" if pending >= args.waiting else f" (not all pending after {args.timeout:.0f} s)"
    print(
        f"waiting: {pending} approvals pending, {attached} of {args.waiting} alerts on their "
        f"case{settled}, {time.perf_counter() - began:.0f} s after the first; worker RSS "
        f"{after:.0f} MiB (was {before:.0f} MiB before them: "
        f"{(after - before) * 1024 / max(args.waiting, 1):.0f} KiB a waiting case)"
    )
    return cases.ours


async def sample_rss(product: Product, seconds: float, every: float) -> list[float]:
    """Worker RSS now and every `every` seconds until `seconds` have passed."""
    began = time.monotonic()
    samples: list[float] = []
    while True:
        samples.append(rss_mib(product.worker.pid))
        print(f"  {time.monotonic() - began:6.0f} s: worker RSS {samples[-1]:.0f} MiB", flush=True)
        next_at = began + len(samples) * every
        if next_at > began + seconds + 1:
            return samples
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))


async def soak(product: Product, args: argparse.Namespace, known: set[str]) -> None:
    """The soak; `known` are cases already known not to be the soak's."""
    run = uuid.uuid4().int % 1000 + 1000
    count = int(args.minutes * 60 * args.rate)
    accepted: list[str] = []
    async with httpx.AsyncClient(base_url=product.base, timeout=60) as http:

        async def send(n: int) -> None:
            body = {
                "id": f"soak-{run}-{n}",
                "title": "Brute force against SSH",
                "severity": "low",
                "src_ip": attacker(n % args.attackers, run),
                "host": f"web-{n % 7:02d}",
            }
            answer = await http.post("/webhooks/generic", json=body, headers=product.headers)
            answer.raise_for_status()
            accepted.extend(str(a["alert_id"]) for a in answer.json()["accepted"])

        print(
            f"soak: {count} alerts at {args.rate:g}/s about {args.attackers} attackers for "
            f"{args.minutes:g} min, worker RSS every {args.sample_seconds:g} s:"
        )
        began = time.perf_counter()
        samples, _ = await asyncio.gather(
            sample_rss(product, args.minutes * 60, args.sample_seconds),
            paced(count, args.rate, send),
        )
        sent = time.perf_counter() - began
        cases = RunCases(frozenset(accepted), others=set(known))
        attached = await on_cases(http, product, cases)
        while attached < len(accepted) and time.perf_counter() - began - sent < args.timeout:
            await asyncio.sleep(1)
            attached = await on_cases(http, product, cases)
    first, last = samples[0], samples[-1]
    print(
        f"soak: worker RSS min {min(samples):.0f}, max {max(samples):.0f}, first {first:.0f}, "
        f"last {last:.0f} MiB; drift {(last - first) / first:+.1%} "
        f"({len(samples)} samples over {args.minutes:g} min)"
    )
    print(
        f"soak: {attached} of {len(accepted)} alerts on their case "
        f"{time.perf_counter() - began - sent:.0f} s after the last was sent"
    )


async def bench(args: argparse.Namespace) -> None:
    env = {"SOAR_APPROVALS__DECIDERS": '["U0BENCH"]'}
    if args.max_cached_workflows is not None:
        env["SOAR_TEMPORAL__MAX_CACHED_WORKFLOWS"] = str(args.max_cached_workflows)
    async with running_product(bench_dir("soar-soak-"), env) as product:
        print(f"worker RSS at start: {rss_mib(product.worker.pid):.0f} MiB")
        waiting = await waiting_cases(product, args) if args.waiting else set()
        if args.minutes > 0:
            await soak(product, args, waiting)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--waiting", type=int, default=1000, help="cases waiting for a decision")
    parser.add_argument("--minutes", type=float, default=60, help="length of the soak")
    parser.add_argument("--rate", type=float, default=5, help="alerts a second during the soak")
    parser.add_argument("--attackers", type=int, default=50)
    parser.add_argument("--sample-seconds", type=float, default=60)
    parser.add_argument(
        "--max-cached-workflows",
        type=int,
        help="the worker's temporal.max_cached_workflows (default: the product's)",
    )
    parser.add_argument(
        "--timeout", type=float, default=1200, help="the longest wait for alerts to settle"
    )
    asyncio.run(bench(parser.parse_args()))

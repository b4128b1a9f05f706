"""Scale-out benchmark: the same alert storm through one, two and three `soar worker`
processes sharing one embedded Temporal server and one store, each count on a fresh
product, in the same run → alerts/s per worker count and each over the one-worker run.

The store is PostgreSQL when `--database-url` names a server (a database of its own is
made for each run and dropped afterwards; several workers writing one SQLite file wait
on its single writer), else SQLite in each run's data directory. Every case is read back
as in bench/storm.py: alerts lost, twice, out of order.

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import uuid

from common import bench_dir, database, running_product
from storm import check_cases, storm


async def bench(args: argparse.Namespace) -> None:
    rates: dict[int, float] = {}
    for workers in range(1, args.max_workers + 1):
        run = uuid.uuid4().int % 1000
        async with (
            database(args.database_url) as env,
            running_product(bench_dir("soar-scaleout-"), env, workers=workers) as product,
        ):
            rate, sent, cases = await storm(product, args, run)
            rates[workers] = rate
            ratio = rate / rates[1]
            print(f"{workers} worker(s): {rate:.1f} alerts/s, {ratio:.2f} times one worker")
            await check_cases(product, sent, cases)
    store = "PostgreSQL" if args.database_url else "SQLite"
    figures = "; ".join(f"{n} → {rate:.1f}" for n, rate in rates.items())
    print(f"scale-out ({store} store, {args.alerts} alerts per run): workers → alerts/s: {figures}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alerts", type=int, default=3000)
    parser.add_argument("--attackers", type=int, default=30)
    parser.add_argument("--batch", type=int, default=100, help="alerts in one webhook request")
    parser.add_argument("--clients", type=int, default=4, help="webhook requests at a time")
    parser.add_argument("--max-workers", type=int, default=3)
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server to make each run's store on, "
        "e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test",
    )
    parser.add_argument("--timeout", type=float, default=900)
    asyncio.run(bench(parser.parse_args()))

"""Slack benchmark, against the fake Slack Web API, at 20 alerts/s:

0. (first) the bare Temporal figures on the same server in the same run: the start
   ceiling (no-op workflows run by this process's own worker, on a task queue of its
   own), and at the same rate a no-op workflow's start → completion and an Update's round
   trip; each latency below is also given over its bare counterpart;
1. webhook → approval message posted (p50/p99): a stream in which one alert in 20
   opens a new case whose `malicious_ip` playbook asks for approval and the others
   repeat earlier attackers (Slack allows about one post a second per channel, so a new
   approval every second is what one approvals channel can carry);
2. Approve click → acknowledged, and → decision shown (`chat.update` of the approval
   message, which the bot makes once the `decide` Update is accepted) (p50/p99);
3. (run first) Slack calls per case during a storm of 1,000 alerts on 10 cases (posts,
   updates and thread replies), and when every case message shows its final count.

Runs the product as separate processes, as in production (embedded Temporal,
`soar worker`, `soar api`) with `SLACK_API_URL` pointing at a :class:`FakeSlack` served by
this process. It needs the Slack activities wired into the workflows and
`bot.app.mount_slack` into the API; without them it says what is missing and stops.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from common import (
    TOKEN,
    BareTemporal,
    Product,
    attacker,
    bench_dir,
    database,
    paced,
    percentile,
    running_product,
)

from soar.testing.fake_slack import FakeSlack, SlackCall, interaction_body, signed_headers

SIGNING_SECRET = "bench-signing-secret"
ANALYST = "UBENCH01"
CHANNEL = "CBENCH01"
APPROVALS_CHANNEL = "CBENCH02"
CONFIG = f"""
[approvals]
deciders = ["bench-analyst"]

[slack]
default_channel = "{CHANNEL}"
approvals_channel = "{APPROVALS_CHANNEL}"
users = {{ {ANALYST} = "bench-analyst" }}

[slack.permissions]
decide = ["{ANALYST}"]
"""


@dataclass
class Posted:
    """An approval message as the fake received it."""

    channel: str
    ts: str
    approval_id: str
    at: float


def percentiles(samples: list[float]) -> str:
    if not samples:
        return "no samples"
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"p50 {statistics.median(ordered) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms "
        f"({len(ordered)} samples)"
    )


def ratio(samples: list[float], bare: list[float]) -> str:
    """p50 and p99 of `samples` over those of the bare figure."""
    if not samples or not bare:
        return "no samples"
    p50, p99 = percentile(samples, 0.5), percentile(samples, 0.99)
    return f"p50 {p50 / percentile(bare, 0.5):.1f}, p99 {p99 / percentile(bare, 0.99):.1f}"


@dataclass
class Bare:
    """What a bare Temporal client did on the same server, at the start of the run: the
    start ceiling (starts/s), and at the benchmark's rate a no-op workflow's start to its
    completion and an Update's round trip to a waiting workflow (seconds)."""

    ceiling: float
    round_trips: list[float]
    updates: list[float]


async def bare_figures(product: Product, args: argparse.Namespace) -> Bare:
    async with BareTemporal.on(product.temporal) as bare:
        top = await bare.start_ceiling(args.ceiling, args.ceiling_concurrency)
        trips = await bare.start_round_trips(args.bare_samples, args.rate)
        updates = await bare.update_round_trips(args.bare_samples, args.rate)
    print(
        f"bare ceiling: {top:.0f} starts/s ({args.ceiling} no-op workflows, "
        f"{args.ceiling_concurrency} starts in flight, same server); the {args.rate:g} "
        f"alerts/s stream is {args.rate / top:.2f} of it"
    )
    print(f"bare start → completed at {args.rate:g}/s: {percentiles(trips)}")
    print(f"bare Update round trip at {args.rate:g}/s: {percentiles(updates)}")
    return Bare(top, trips, updates)


def approval_posts(slack: FakeSlack) -> dict[str, Posted]:
    """Approval messages posted so far, by the target named in their text."""
    found: dict[str, Posted] = {}
    for call in slack.calls:
        args = call.args
        if call.method != "chat.postMessage" or not call.ok or args.get("thread_ts"):
            continue
        approve = [
            element
            for block in args.get("blocks") or []
            if block.get("type") == "actions"
            for element in block.get("elements", [])
            if element.get("action_id") == "approval.approve"
        ]
        text = str(args.get("text", ""))
        if approve and text.startswith("Approval needed: deny "):
            target = text.removeprefix("Approval needed: deny ").split(" ", 1)[0]
            ts = str(call.response.get("ts"))
            found[target] = Posted(args["channel"], ts, approve[0]["value"], call.at)
    return found


async def approval_latency(
    http: httpx.AsyncClient, slack: FakeSlack, args: argparse.Namespace, bare: Bare
) -> dict[str, Posted]:
    """A stream of 20 alerts/s in which every `new_every`-th alert is a new attacker
    (a new case whose playbook asks for approval) and the others repeat earlier ones."""
    run = uuid.uuid4().int % 1000
    sent: dict[str, float] = {}

    async def send(n: int) -> None:
        new, index = n % args.new_every == 0, n // args.new_every
        address = attacker(index if new else n % (index + 1), run)
        if new:
            sent[address] = time.time()
        body = {"id": f"slack-{run}-{n}", "title": "Outbound C2", "severity": "high"}
        answer = await http.post(
            "/webhooks/generic",
            json=body | {"src_ip": address},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        answer.raise_for_status()

    await paced(args.approvals * args.new_every, args.rate, send)
    deadline = time.monotonic() + args.timeout
    posted: dict[str, Posted] = {}
    while time.monotonic() < deadline:
        posted = {k: v for k, v in approval_posts(slack).items() if k in sent}
        if len(posted) >= len(sent):
            break
        await asyncio.sleep(0.5)
    if not posted:
        raise SystemExit(
            "no approval message was posted: wire slack.post_approval_message into the "
            "playbook SDK's approval step"
        )
    latencies = [posted[k].at - sent[k] for k in posted]
    print(
        f"webhook → approval message posted ({len(sent)} new cases in "
        f"{args.approvals * args.new_every} alerts at {args.rate:g}/s; posts spaced "
        f"{args.post_interval} s per channel): {percentiles(latencies)}"
    )
    print(f"  ratio to the bare start → completed: {ratio(latencies, bare.round_trips)}")
    requested = await requested_at(http)
    known = [k for k in posted if k in requested]
    print(
        "  of which webhook → approval requested: "
        f"{percentiles([requested[k] - sent[k] for k in known])}"
    )
    print(
        "  and approval requested → posted: "
        f"{percentiles([posted[k].at - requested[k] for k in known])}"
    )
    print(f"  approval messages missing: {len(sent) - len(posted)}")
    return posted


async def requested_at(http: httpx.AsyncClient) -> dict[str, float]:
    """When each pending approval was requested (workflow time), by target."""
    answer = await http.get(
        "/api/approvals",
        params={"state": "pending", "limit": 500},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    return {
        a["target"]: datetime.fromisoformat(a["requested_at"]).timestamp() for a in answer.json()
    }


async def click_latency(
    http: httpx.AsyncClient,
    slack: FakeSlack,
    posted: dict[str, Posted],
    args: argparse.Namespace,
    bare: Bare,
) -> None:
    messages = list(posted.values())
    clicked: dict[str, float] = {}
    acked: list[float] = []

    async def click(n: int) -> None:
        message = messages[n]
        payload = {
            "type": "block_actions",
            "team": {"id": "T0BENCH"},
            "api_app_id": "A0BENCH",
            "trigger_id": uuid.uuid4().hex,
            "user": {"id": ANALYST},
            "container": {
                "type": "message",
                "channel_id": message.channel,
                "message_ts": message.ts,
            },
            "channel": {"id": message.channel},
            "message": {"ts": message.ts},
            "actions": [
                {
                    "type": "button",
                    "action_id": "approval.approve",
                    "block_id": "bench",
                    "value": message.approval_id,
                    "action_ts": str(time.time()),
                }
            ],
        }
        body = interaction_body(payload)
        clicked[message.ts] = time.time()
        answer = await http.post(
            "/slack/events", content=body, headers=signed_headers(body, SIGNING_SECRET)
        )
        acked.append(time.time() - clicked[message.ts])
        answer.raise_for_status()

    await paced(len(messages), args.rate, click)
    deadline = time.monotonic() + args.timeout
    shown: dict[str, float] = {}
    while time.monotonic() < deadline and len(shown) < len(clicked):
        for call in slack.calls:
            ts = str(call.args.get("ts"))
            fresh = ts in clicked and ts not in shown and call.at >= clicked[ts]
            if call.method == "chat.update" and call.ok and fresh:
                shown[ts] = call.at - clicked[ts]
        await asyncio.sleep(0.2)
    print(f"Approve click → acknowledged: {percentiles(acked)}")
    print(f"Approve click → Update accepted and shown: {percentiles(list(shown.values()))}")
    print(f"  ratio to the bare Update round trip: {ratio(list(shown.values()), bare.updates)}")
    print(f"  decisions not shown: {len(clicked) - len(shown)}")


def calls_per_case(calls: list[SlackCall], addresses: list[str]) -> dict[str, dict[str, Any]]:
    """Posts, updates and thread replies of each case message, found by its address."""
    per_case: dict[str, dict[str, Any]] = {}
    by_ts: dict[str, str] = {}
    for call in calls:
        if call.method != "chat.postMessage" or call.args.get("thread_ts") or not call.ok:
            continue
        text = str(call.args.get("text", ""))
        shown = json.dumps(call.args.get("blocks") or [])
        address = next((a for a in addresses if f"`{a}`" in shown), None)
        if address and not text.startswith("Approval"):
            by_ts[str(call.response.get("ts"))] = address
            per_case[address] = {
                "posts": 1,
                "updates": 0,
                "replies": 0,
                "rate_limited": 0,
                "last": text,
            }
    for call in calls:
        ts = str(call.args.get("ts") or call.args.get("thread_ts"))
        if call.method == "chat.update" and ts in by_ts:
            per_case[by_ts[ts]]["updates" if call.ok else "rate_limited"] += 1
            if call.ok:
                per_case[by_ts[ts]]["last"] = call.args.get("text", "")
        elif call.method == "chat.postMessage" and call.args.get("thread_ts") in by_ts:
            per_case[by_ts[str(call.args["thread_ts"])]]["replies"] += 1
    return per_case


async def storm(http: httpx.AsyncClient, slack: FakeSlack, args: argparse.Namespace) -> None:
    run = uuid.uuid4().int % 1000 + 1000
    addresses = [attacker(n, run) for n in range(args.storm_cases)]
    first_call = len(slack.calls)

    async def send(n: int) -> None:
        body = {"id": f"storm-{run}-{n}", "title": "SSH brute force", "severity": "low"}
        answer = await http.post(
            "/webhooks/generic",
            json=body | {"src_ip": addresses[n % len(addresses)]},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        answer.raise_for_status()

    began = time.monotonic()
    await paced(args.storm_alerts, args.rate, send)
    expected = args.storm_alerts // len(addresses)
    while time.monotonic() - began < args.timeout:
        per_case = calls_per_case(slack.calls[first_call:], addresses)
        if len(per_case) == len(addresses) and all(
            f"{expected} alerts" in c.get("last", "") for c in per_case.values()
        ):
            break
        await asyncio.sleep(0.5)
    drained = time.monotonic() - began
    per_case = calls_per_case(slack.calls[first_call:], addresses)
    if not per_case:
        raise SystemExit("no case message was posted: wire slack.post_case_message")
    totals = [c["posts"] + c["updates"] + c["replies"] for c in per_case.values()]
    current = sum(f"{expected} alerts" in c.get("last", "") for c in per_case.values())
    print(
        f"storm of {args.storm_alerts} alerts on {len(addresses)} cases: Slack calls per case "
        f"mean {statistics.mean(totals):.1f}, max {max(totals)} "
        f"(posts {sum(c['posts'] for c in per_case.values())}, "
        f"updates {sum(c['updates'] for c in per_case.values())}, "
        f"replies {sum(c['replies'] for c in per_case.values())}, "
        f"429s {sum(c['rate_limited'] for c in per_case.values())}); "
        f"case messages showing their final count: {current} of {len(per_case)}, "
        f"{drained:.0f} s after the first alert"
    )


async def measure(product: Product, slack: FakeSlack, args: argparse.Namespace) -> None:
    async with httpx.AsyncClient(base_url=product.base, timeout=60) as http:
        probe = await http.post("/slack/events", content="")
        if probe.status_code == 404:
            raise SystemExit("POST /slack/events is not mounted: wire bot.app.mount_slack")
        bare = await bare_figures(product, args)
        await storm(http, slack, args)
        posted = await approval_latency(http, slack, args, bare)
        await click_latency(http, slack, posted, args, bare)
        methods = Counter(call.method for call in slack.calls)
        print("Slack calls in all: " + ", ".join(f"{m} {n}" for m, n in methods.most_common()))


async def main(args: argparse.Namespace) -> None:
    data_dir = bench_dir("soar-slack-")
    (data_dir / "soar.toml").write_text(CONFIG)
    async with FakeSlack() as slack:
        env = {
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "SOAR_SLACK__POST_INTERVAL_SECONDS": str(args.post_interval),
            "SOAR_SLACK__UPDATE_INTERVAL_SECONDS": str(args.update_interval),
            "SOAR_SLACK__UPDATES_PER_MINUTE": str(args.updates_per_minute),
        }
        async with (
            database(args.database_url) as store,
            running_product(data_dir, env | store) as product,
        ):
            print(f"store: {'PostgreSQL' if store else 'SQLite'}")
            await measure(product, slack, args)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--approvals", type=int, default=30, help="new cases asking for approval")
    parser.add_argument(
        "--new-every", type=int, default=20, help="one alert in this many opens a new case"
    )
    parser.add_argument("--storm-alerts", type=int, default=1000)
    parser.add_argument("--storm-cases", type=int, default=10)
    parser.add_argument("--rate", type=float, default=20.0, help="alerts (and clicks) a second")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument(
        "--post-interval",
        type=float,
        default=1.0,
        help="seconds between posts in one channel (the product's default follows Slack: 1)",
    )
    parser.add_argument(
        "--update-interval", type=float, default=2.0, help="seconds between updates of a message"
    )
    parser.add_argument("--updates-per-minute", type=float, default=50.0)
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server to make the run's store on (else SQLite), "
        "e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test",
    )
    parser.add_argument("--ceiling", type=int, default=2000, help="no-op workflows started")
    parser.add_argument("--ceiling-concurrency", type=int, default=64)
    parser.add_argument(
        "--bare-samples",
        type=int,
        default=200,
        help="bare round trips (start → completed, and Update) at --rate",
    )
    asyncio.run(main(parser.parse_args()))

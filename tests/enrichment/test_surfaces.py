"""Where the combined verdicts show: `soar enrich`, `GET /api/enrichment`, `soar
integrations check` (the day's quota), the case detail and `soar cases show`, and the
Slack case message — against the vendors' emulators over real HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from temporalio.client import Client
from typer.testing import CliRunner, Result

from bot.messages import case_message
from soar.api.app import create_app
from soar.cli import cases as cases_cli
from soar.cli.main import app as soar_cli
from soar.enrichment.activities import TriageActivities
from soar.enrichment.inventory import Inventory
from soar.enrichment.models import Verdict
from soar.notifications.models import CaseContext
from soar.runtime.services import build_services
from soar.settings import Settings
from soar.testing.emulators.abuseipdb import AbuseIpdbEmulator
from soar.testing.emulators.greynoise import GreyNoiseEmulator
from tests.bot.test_messages import LINKS, PEOPLE
from tests.conftest import API_TOKEN, bearer, make_settings
from tests.store import factories

from .support import BAD, abuseipdb, alert, close, greynoise, ip, open_store, registry


def _config(path: Path, data_dir: Path, abuse: AbuseIpdbEmulator, noise: GreyNoiseEmulator) -> Path:
    """A configuration file with both sources against the emulators."""
    path.write_text(
        f"""
data_dir = "{data_dir}"
[enrichment]
default_tlp = "green"
[enrichment.providers.abuseipdb]
type = "abuseipdb"
[enrichment.providers.abuseipdb.options]
base_url = "{abuse.base_url}"
api_key = "{abuse.key}"
max_retries = 0
daily_quota = 100
[enrichment.providers.greynoise]
type = "greynoise"
options = {{ base_url = "{noise.base_url}", api_key = "{noise.key}", max_retries = 0 }}
""",
        encoding="utf-8",
    )
    return path


async def _soar(config: Path, args: Sequence[str]) -> Result:
    """The CLI in a thread of its own (it runs its own event loop) while this loop serves
    the emulators."""
    env = {"SOAR_CONFIG": str(config), "COLUMNS": "220"}
    return await asyncio.to_thread(CliRunner().invoke, soar_cli, list(args), env=env)


def _seeded() -> tuple[AbuseIpdbEmulator, GreyNoiseEmulator]:
    abuse = AbuseIpdbEmulator()
    abuse.add_ip(BAD, score=100, reports=523, users=97)
    noise = GreyNoiseEmulator(daily_limit=1000)
    noise.add_ip(BAD, classification="malicious", name="Mirai")
    return abuse, noise


async def test_soar_enrich_shows_each_source_cached_or_fresh_and_the_combined_line(
    tmp_path: Path,
) -> None:
    abuse, noise = _seeded()
    async with abuse, noise:
        config = _config(tmp_path / "soar.toml", tmp_path / "data", abuse, noise)
        first = await _soar(config, ["enrich", BAD])
        second = await _soar(config, ["enrich", BAD])
        fresh = await _soar(config, ["enrich", BAD, "--fresh"])
        internal = await _soar(config, ["enrich", "10.0.0.7"])
        red = await _soar(config, ["enrich", "81.2.3.4", "--tlp", "TLP:RED"])
        checked = await _soar(config, ["integrations", "check", "abuseipdb"])

    for result in (first, second, fresh, internal, red, checked):
        assert result.exit_code == 0, result.output
    assert "Combined: malicious (100/100) according to abuseipdb, greynoise" in first.output
    assert "https://www.abuseipdb.com/check/45.155.205.233" in first.output
    assert first.output.count("fresh") == 2 and second.output.count("cached (") == 2
    assert fresh.output.count("fresh") == 2
    assert (abuse.lookups, noise.lookups) == (2 + 1, 2)  # + the check's own call
    assert "10.0.0.7 is a private address: never sent out" in internal.output
    assert "marked TLP:RED, above abuseipdb's limit (TLP:GREEN)" in red.output
    assert "daily quota: 2 of 100 lookups used today, 98 left; resets 00:00 UTC" in checked.output
    assert abuse.key not in first.output + checked.output


async def test_the_api_answers_the_same_lookup_for_scripts(
    temporal_client: Client, tmp_path: Path
) -> None:
    abuse, noise = _seeded()
    async with abuse, noise:
        settings = _settings(tmp_path, abuse, noise)
        store = await open_store(tmp_path / "store.sqlite3")
        services = build_services(temporal_client, settings, store)
        transport = httpx.ASGITransport(app=create_app(services))
        async with httpx.AsyncClient(transport=transport, base_url="http://soar.test") as http:
            answer = await http.get(
                "/api/enrichment", params={"value": BAD}, headers=bearer(API_TOKEN)
            )
            refused = await http.get(
                "/api/enrichment", params={"value": "nope", "type": "ip"}, headers=bearer(API_TOKEN)
            )
            bad_tlp = await http.get(
                "/api/enrichment", params={"value": BAD, "tlp": "purple"}, headers=bearer(API_TOKEN)
            )
            anonymous = await http.get("/api/enrichment", params={"value": BAD})
        services.spool.close()
        await store.close()

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["guessed_type"] is True and body["observable"]["type"] == "ip"
    assert (body["verdict"]["verdict"], body["verdict"]["score"]) == ("malicious", 100)
    assert [s["provider"] for s in body["verdict"]["sources"]] == ["abuseipdb", "greynoise"]
    assert body["local"][0]["reasons"] == ["45.155.205.233 is a public address"]
    assert "raw" not in json.dumps(body)
    assert refused.json()["verdict"]["refused"] == "'nope' is not a valid IP address"
    assert bad_tlp.status_code == 400
    assert anonymous.status_code == 401
    assert (abuse.lookups, noise.lookups) == (1, 1)


def _settings(tmp_path: Path, abuse: AbuseIpdbEmulator, noise: GreyNoiseEmulator) -> Settings:
    options: dict[str, Any] = {"max_retries": 0}
    return make_settings(
        tmp_path,
        enrichment={
            "default_tlp": "green",
            "providers": {
                "abuseipdb": {
                    "type": "abuseipdb",
                    "options": options | {"base_url": abuse.base_url, "api_key": abuse.key},
                },
                "greynoise": {
                    "type": "greynoise",
                    "options": options | {"base_url": noise.base_url, "api_key": noise.key},
                },
            },
        },
    )


async def test_the_case_detail_cases_show_and_the_slack_message_show_the_combined_verdict(
    tmp_path: Path,
) -> None:
    abuse, noise = _seeded()
    noise.add_ip("81.2.3.4", classification="benign", name="Googlebot")
    async with abuse, noise:
        store = await open_store(tmp_path / "store.sqlite3")
        built = registry(abuseipdb(abuse), greynoise(noise), store=store)
        triage = await TriageActivities(Inventory(), built).triage_alert(
            alert(ip(BAD), ip("81.2.3.4"), ip("10.0.0.3"))
        )
        await close(built)
        recorded = factories.alert("a1")
        await store.upsert_alert(recorded)
        await store.record_case_changes(
            factories.case(), [], [recorded.id], {recorded.id: triage.summary()}
        )
        detail = await store.get_case_detail("case-1")
        await store.close()

    assert detail is not None
    assert [(v.observable.value, v.verdict) for v in detail.enrichment] == [
        (BAD, Verdict.MALICIOUS),
        ("81.2.3.4", Verdict.BENIGN),
        ("10.0.0.3", Verdict.UNKNOWN),
    ]
    assert detail.enrichment[2].internal == "10.0.0.3 is a private address"
    console = Console(record=True, width=220)
    console.print(cases_cli._enrichment(detail.model_dump(mode="json")))
    shown = console.export_text()
    assert "ip 45.155.205.233" in shown and "abuseipdb, greynoise" in shown
    assert "abuseipdb: skipped (10.0.0.3 is a private address: never sent out)" in shown

    context = CaseContext.of(alert(ip(BAD)), triage)
    lines = [f"{v.provider} {v.value} {v.verdict.value} {v.score}" for v in context.verdicts]
    assert lines == [
        f"abuseipdb, greynoise {BAD} malicious 100",
        "greynoise 81.2.3.4 benign 0",
    ]
    rendered = json.dumps(case_message(factories.case(), context, LINKS, PEOPLE).blocks)
    assert f"abuseipdb, greynoise on `{BAD}`: malicious (100/100)" in rendered

"""`soar spool`, `soar spool retry` and `soar doctor` on parked alerts, run the way a user
runs them (settings from the environment), against a spool file in a temporary data
directory and, for the doctor, a real dev server without the product's search attributes.
Commands run in a thread: the CLI starts its own event loop."""

from __future__ import annotations

import asyncio
from pathlib import Path

from typer.testing import CliRunner, Result

from soar.cli.main import app
from soar.ingest.spool import Spool
from soar.runtime.search_attribute_setup import ensure_search_attributes
from tests.bare_temporal import address, bare_temporal
from tests.conftest import unique
from tests.store import factories

HOSTILE = "[bold red]x[/]"
REFUSAL = "INVALID_ARGUMENT: Namespace default has no mapping defined for search attribute Source"


def environment(data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        "SOAR_CONFIG": str(data_dir / "absent.toml"),
        "SOAR_DATA_DIR": str(data_dir),
        "COLUMNS": "400",
    } | extra


async def soar(env: dict[str, str], *args: str) -> Result:
    return await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env)


async def test_spool_status_shows_parked_alerts_and_retry_moves_them_back(
    tmp_path: Path,
) -> None:
    spool = Spool(tmp_path / "spool.sqlite3")
    first, second, waiting = (factories.alert(unique()) for _ in range(3))
    await spool.park_many([(first, "PERMISSION_DENIED: first"), (second, f"refused {HOSTILE}")])
    await spool.put_many([waiting])
    env = environment(tmp_path)

    shown = await soar(env, "spool")
    assert shown.exit_code == 0, shown.output
    assert "waiting for Temporal: 1" in shown.output
    assert "parked (refused by Temporal): 2" in shown.output
    assert first.id in shown.output and "PERMISSION_DENIED: first" in shown.output
    assert HOSTILE in shown.output
    latest = await soar(env, "spool", "status", "--limit", "1")
    assert second.id in latest.output and first.id not in latest.output

    retried = await soar(env, "spool", "retry")
    assert retried.exit_code == 0, retried.output
    assert "Moved 2 parked alert(s)" in retried.output
    assert [e.alert.id for e in await spool.head()] == [waiting.id, first.id, second.id]
    after = await soar(env, "spool")
    assert "waiting for Temporal: 3" in after.output
    assert "parked (refused by Temporal): 0" in after.output
    assert "No parked alerts." in (await soar(env, "spool", "retry")).output
    spool.close()


async def test_doctor_reports_missing_search_attributes_and_parked_alerts(
    tmp_path: Path,
) -> None:
    spool = Spool(tmp_path / "spool.sqlite3")
    refused = factories.alert(unique())
    await spool.park_many([(refused, REFUSAL)])
    async with bare_temporal() as bare:
        env = environment(tmp_path, SOAR_TEMPORAL__ADDRESS=address(bare))
        before = await soar(env, "doctor")
        assert before.exit_code == 0, before.output
        assert (
            "missing in namespace default: Severity, Source, Rule, AlertStatus, CaseState, "
            "CorrelationKey" in before.output
        )
        assert "temporal operator search-attribute create --namespace default" in before.output
        assert "1 alert(s) Temporal refused" in before.output
        assert refused.id in before.output and REFUSAL in before.output

        await ensure_search_attributes(bare.client)
        assert (await soar(env, "spool", "retry")).exit_code == 0
        after = await soar(env, "doctor")
        assert after.exit_code == 0, after.output
        assert "all 6 registered in namespace default" in after.output
        assert "none: Temporal refused no alert" in after.output
        assert "1 alert(s) waiting for Temporal" in after.output
    spool.close()

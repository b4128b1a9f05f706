"""`soar playbooks list` and `soar playbooks test`.

The test run itself goes through :func:`run_playbook_test` on the session's Temporal;
the command wraps it in a throwaway embedded server, which these tests do not start.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import Client
from typer.testing import CliRunner

from soar.cli import playbooks as cli
from soar.containment.models import ActionState
from soar.settings import Settings
from soar.store.db import Store
from tests.conftest import SAMPLES

runner = CliRunner()


@pytest.fixture(autouse=True)
def no_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOAR_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("COLUMNS", "250")


def test_list_shows_each_playbook_with_its_trigger_and_source() -> None:
    result = runner.invoke(cli.app, ["list"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    for name in ("malicious_ip", "compromised_host", "suspicious_user"):
        assert name in result.output
    assert "built-in (workflows.playbooks.malicious_ip)" in result.output
    assert "severity ≥ medium; a public ip as actor or source; verdict ≥ malicious" in result.output
    assert "rule names a compromise, not an attempt; severity ≥ high" in result.output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["nope", "--alert", str(SAMPLES / "generic.json")], "no playbook named 'nope'"),
        (
            ["malicious_ip", "--alert", str(SAMPLES / "generic.json"), "--source", "nope"],
            "no source named 'nope'",
        ),
        (
            ["malicious_ip", "--alert", str(SAMPLES / "generic.json"), "--source", "splunk"],
            "cannot be read as splunk",
        ),
    ],
    ids=["unknown-playbook", "unknown-source", "wrong-parser"],
)
def test_test_explains_what_it_cannot_run(arguments: list[str], message: str) -> None:
    result = runner.invoke(cli.app, ["test", *arguments])
    assert result.exit_code == 2
    assert message in result.output


async def test_a_sample_payload_runs_the_playbook_in_dry_run(
    temporal_client: Client, store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    options = {"client_id": "soar-test", "client_secret": "never-sent"}
    settings = Settings(actuators={"edr": {"type": "crowdstrike", "options": options}})
    alert = cli.parse_alert(settings, "generic", SAMPLES / "generic.json")
    spec = cli.find_playbook("compromised_host")
    assert spec.matches(alert)

    run = await cli.run_playbook_test(temporal_client, store, cli.bench_for(settings), spec, alert)

    assert run.error is None
    [action] = run.actions
    assert action.state is ActionState.DRY_RUN
    assert action.detail == "dry run: would contain hr-share-04 with edr"
    assert [d.user for d in run.approvals[0].decisions] == ["soar-test-1"]
    capsys.readouterr()
    cli.print_run(spec, alert, run)
    printed = capsys.readouterr().out
    assert "Playbook compromised_host on Credential theft tool executed" in printed
    assert "Actions: contain hr-share-04: dry_run" in printed

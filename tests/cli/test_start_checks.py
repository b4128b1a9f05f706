"""`soar up`, `worker`, `api` and `bot` refuse to start on configuration that does not
fit its model (any setting, playbook options, the `[slack]` table) in one line naming the
setting; `soar playbooks list` shows each playbook's options."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from soar.cli.main import app


@pytest.mark.parametrize("command", ["worker", "up"])
def test_bad_playbook_options_stop_the_start_with_the_setting_named(
    tmp_path: Path, command: str
) -> None:
    config = tmp_path / "soar.toml"
    config.write_text(
        'webhook_token = "w"\napi_token = "a"\n'
        "[playbooks.malicious_ip]\noptions = { block_seconds = -5 }\n"
    )
    env = {"SOAR_CONFIG": str(config), "SOAR_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}

    result = CliRunner().invoke(app, [command], env=env)

    assert result.exit_code == 2, result.output
    assert (
        "error: playbooks.malicious_ip.options.block_seconds: "
        "Input should be greater than or equal to 1"
    ) in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "data").exists()


def test_a_bad_slack_table_stops_the_start_with_the_setting_named(tmp_path: Path) -> None:
    config = tmp_path / "soar.toml"
    config.write_text(
        'webhook_token = "w"\napi_token = "a"\n[slack]\nupdates_per_minute = "many"\n'
    )
    env = {"SOAR_CONFIG": str(config), "SOAR_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}

    result = CliRunner().invoke(app, ["api"], env=env)

    assert result.exit_code == 2, result.output
    assert "error: slack.updates_per_minute: Input should be a valid" in result.output
    assert "Traceback" not in result.output


def test_a_bad_setting_is_one_line_naming_it_without_its_value(tmp_path: Path) -> None:
    config = tmp_path / "soar.toml"
    config.write_text('webhook_token = ["s3cret-value"]\napi_token = "a"\napi_port = "x"\n')
    env = {"SOAR_CONFIG": str(config), "SOAR_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "400"}

    result = CliRunner().invoke(app, ["worker"], env=env)

    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"error: {config}: ")
    assert "api_port: Input should be a valid integer" in result.output
    assert "webhook_token: " in result.output
    assert "s3cret-value" not in result.output
    assert "Traceback" not in result.output


def test_playbooks_list_shows_each_playbooks_options() -> None:
    result = CliRunner().invoke(app, ["playbooks", "list"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    [row] = [line for line in result.output.splitlines() if "malicious_ip" in line]
    assert "block_seconds = 3600" in row


@pytest.mark.parametrize("command", ["worker", "up"])
def test_an_unknown_integration_type_stops_the_start_with_the_setting_named(
    tmp_path: Path, command: str
) -> None:
    config = tmp_path / "soar.toml"
    config.write_text(
        'webhook_token = "w"\napi_token = "a"\n'
        '[actuators.edge]\ntype = "iptables-9000"\noptions = { password = "s3cret-value" }\n'
    )
    env = {"SOAR_CONFIG": str(config), "SOAR_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "400"}

    result = CliRunner().invoke(app, [command], env=env)

    assert result.exit_code == 2, result.output
    assert "error: actuators.edge.type: 'iptables-9000' is not a type any installed" in (
        result.output
    )
    assert "known types: " in result.output and "nftables" in result.output
    assert "s3cret-value" not in result.output and "Traceback" not in result.output
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    ("table", "named"),
    [
        (
            '[actuators.idp]\ntype = "okta"\noptions = { base_url = "https://acme.okta.com" }\n',
            "actuators.idp.options.api_token: Field required",
        ),
        (
            '[actuators.edge]\ntype = "nftables"\noptions = { host = "gw", username = "soar", '
            'client_keys = ["/nonexistent/id_ed25519"], known_hosts = "{known}", '
            'password = "s3cret-value" }\n',
            "actuators.edge.options.client_keys",
        ),
    ],
    ids=["missing secret", "unreadable key file"],
)
def test_a_bad_integration_setting_stops_the_start_with_the_setting_named(
    tmp_path: Path, table: str, named: str
) -> None:
    known = tmp_path / "known_hosts"
    known.write_text("")
    config = tmp_path / "soar.toml"
    config.write_text(
        'webhook_token = "w"\napi_token = "a"\n' + table.replace("{known}", str(known))
    )
    env = {"SOAR_CONFIG": str(config), "SOAR_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "400"}

    result = CliRunner().invoke(app, ["worker"], env=env)

    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ") and named in result.output
    assert "s3cret-value" not in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        (
            '[escalation.policies.fast]\nlevels = [{ page = "oncall" }]\n',
            "escalation.policies.fast.levels.0.page: 'oncall' is not configured in [paging]",
        ),
        (
            '[escalation.policies.fast]\nlevels = [{ after = "soon", channel = "#soc" }]\n',
            "escalation.policies.fast.levels.0.after",
        ),
        (
            '[escalation.policies.fast]\nlevels = [{ group = "leads" }]\n',
            "'leads' is not in [escalation.groups]",
        ),
    ],
)
def test_a_bad_escalation_policy_stops_the_start_with_the_setting_named(
    tmp_path: Path, table: str, problem: str
) -> None:
    config = tmp_path / "soar.toml"
    config.write_text('webhook_token = "w"\napi_token = "a"\n' + table)
    env = {"SOAR_CONFIG": str(config), "SOAR_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "400"}

    result = CliRunner().invoke(app, ["worker"], env=env)

    assert result.exit_code == 2, result.output
    assert problem in " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert not (tmp_path / "data").exists()

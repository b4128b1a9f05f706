"""How `--temporal-address/--namespace/--tls-cert/--tls-key/--api-key` of `soar up`,
`soar worker` and `soar api` land in the settings, and from there in the options the
product connects to Temporal with. No TLS server is needed: the client is built lazily
(no dial) and its connect configuration is read back. Secrets stay `SecretStr` on the
way and are printed nowhere."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import SecretStr
from temporalio.client import TLSConfig
from temporalio.contrib.pydantic import pydantic_data_converter
from typer.testing import CliRunner

from soar.cli import main
from soar.runtime import stack
from soar.runtime.temporal_client import connect, tls_config
from soar.settings import Settings, TemporalSettings

API_KEY = "tcloud-api-key-do-not-print"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No `SOAR_*` or `TEMPORAL_API_KEY` from the caller's environment; a config file
    path in the temp dir (absent until a test writes it)."""
    for name in list(os.environ):
        if name.startswith(("SOAR_", "SLACK_")) or name == "TEMPORAL_API_KEY":
            monkeypatch.delenv(name)
    config = tmp_path / "soar.toml"
    monkeypatch.setenv("SOAR_CONFIG", str(config))
    monkeypatch.setenv("SOAR_DATA_DIR", str(tmp_path / "data"))
    return config


@pytest.fixture
def pem(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Stand-in certificate, key and CA files: only their bytes are read here."""
    files = (tmp_path / "client.pem", tmp_path / "client.key", tmp_path / "ca.pem")
    for path in files:
        path.write_bytes(f"-----{path.name}-----\n".encode())
    return files


def test_flags_override_the_file_and_keep_what_they_do_not_name(
    clean_env: Path, pem: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key, _ = pem
    clean_env.write_text(
        '[temporal]\naddress = "file.example:7233"\nnamespace = "from-file"\n'
        'task_queue = "from-file-queue"\n'
    )
    monkeypatch.setenv("SOAR_TEMPORAL__RPC_TIMEOUT_SECONDS", "7.5")
    settings = main._settings("flag.example:7233", "from-flag", cert, key, API_KEY)
    temporal = settings.temporal
    assert temporal.address == "flag.example:7233" and temporal.target() == "flag.example:7233"
    assert not temporal.embedded
    assert temporal.namespace == "from-flag"
    assert (temporal.tls_cert, temporal.tls_key) == (cert, key)
    assert isinstance(temporal.api_key, SecretStr)
    assert temporal.api_key.get_secret_value() == API_KEY
    assert temporal.task_queue == "from-file-queue"
    assert temporal.rpc_timeout_seconds == 7.5
    for shown in (repr(settings), str(settings), settings.model_dump_json(), repr(temporal)):
        assert API_KEY not in shown

    only_address = main._settings("other.example:7233", None, None, None, None).temporal
    assert only_address.namespace == "from-file"
    assert only_address.tls_cert is None and only_address.api_key is None


def test_no_flags_leaves_the_settings_alone(clean_env: Path) -> None:
    settings = main._settings(None, None, None, None, None)
    assert settings.temporal == Settings().temporal
    assert settings.temporal.embedded


async def test_mtls_options_reach_the_client(pem: tuple[Path, Path, Path]) -> None:
    cert, key, ca = pem
    settings = TemporalSettings(
        address="temporal.example:7233", namespace="prod", tls_cert=cert, tls_key=key, tls_ca=ca
    )
    client = await connect(settings, lazy=True)
    config = client.service_client.config
    assert config.target_host == "temporal.example:7233"
    assert client.namespace == "prod"
    assert isinstance(config.tls, TLSConfig)
    assert config.tls.client_cert == cert.read_bytes()
    assert config.tls.client_private_key == key.read_bytes()
    assert config.tls.server_root_ca_cert == ca.read_bytes()
    assert config.api_key is None
    assert client.data_converter is pydantic_data_converter


async def test_api_key_means_plain_tls_and_is_sent_as_the_key() -> None:
    settings = TemporalSettings(
        address="ns.acct.tmprl.cloud:7233", namespace="ns.acct", api_key=SecretStr(API_KEY)
    )
    assert tls_config(settings) is True
    client = await connect(settings, lazy=True)
    assert client.service_client.config.tls is True
    assert client.service_client.config.api_key == API_KEY
    assert client.namespace == "ns.acct"


def test_no_tls_options_mean_plaintext() -> None:
    assert tls_config(TemporalSettings(address="127.0.0.1:7233")) is False


@pytest.mark.parametrize(
    ("command", "parts"),
    [
        ("worker", stack.Parts(temporal=False, worker=True, api=False)),
        ("api", stack.Parts(temporal=False, worker=False, api=True)),
        ("up", stack.Parts(temporal=False, worker=True, api=True, worker_process=True)),
    ],
)
def test_commands_pass_the_options_to_the_stack(
    command: str,
    parts: stack.Parts,
    clean_env: Path,
    pem: tuple[Path, Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The command line as a user types it, the API key from `TEMPORAL_API_KEY` (the
    option's environment variable) and then from `--api-key`; the stack is replaced by
    a recorder that prints the start-up banner, which must not show the key."""
    cert, key, _ = pem
    clean_env.write_text('webhook_token = "w"\napi_token = "a"\n')
    seen: list[tuple[Settings, stack.Parts]] = []

    def record(settings: Settings, chosen: stack.Parts) -> None:
        seen.append((settings, chosen))
        main._banner(settings, chosen)

    monkeypatch.setattr(main, "_run", record)
    arguments = [command, "--temporal-address", "tc.example:7233", "--namespace", "prod"]
    arguments += ["--tls-cert", str(cert), "--tls-key", str(key)]
    result = CliRunner().invoke(main.app, arguments, env={"TEMPORAL_API_KEY": API_KEY})
    assert result.exit_code == 0, result.output
    ((settings, chosen),) = seen
    assert chosen == parts
    temporal = settings.temporal
    assert (temporal.address, temporal.namespace) == ("tc.example:7233", "prod")
    assert (temporal.tls_cert, temporal.tls_key) == (cert, key)
    assert isinstance(temporal.api_key, SecretStr)
    assert temporal.api_key.get_secret_value() == API_KEY
    assert "tc.example:7233 (prod)" in result.output
    assert API_KEY not in result.output

    flagged = CliRunner().invoke(
        main.app, [command, "--temporal-address", "tc.example:7233", "--api-key", "from-flag"]
    )
    assert flagged.exit_code == 0, flagged.output
    assert seen[-1][0].temporal.api_key == SecretStr("from-flag")
    assert "from-flag" not in flagged.output


def test_a_private_ca_alone_means_tls_against_it(pem: tuple[Path, Path, Path]) -> None:
    _, _, ca = pem
    config = tls_config(TemporalSettings(address="t.example:7233", tls_ca=ca))
    assert isinstance(config, TLSConfig)
    assert config.server_root_ca_cert == ca.read_bytes() and config.client_cert is None


def test_a_certificate_without_its_key_is_refused(pem: tuple[Path, Path, Path]) -> None:
    cert, key, _ = pem
    with pytest.raises(ValueError, match=r"tls_cert and temporal\.tls_key must be set together"):
        TemporalSettings(address="t.example:7233", tls_cert=cert)
    with pytest.raises(ValueError, match="must be set together"):
        TemporalSettings(address="t.example:7233", tls_key=key)

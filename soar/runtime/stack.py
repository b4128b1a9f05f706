"""Run the product: the embedded Temporal (unless a cluster is configured), the worker,
the HTTP API with its spool forwarder. One process by default; `soar worker` and
`soar api` run the parts separately against a shared Temporal."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass

import uvicorn
from temporalio.client import Client
from temporalio.runtime import Runtime

from bot.app import mount_slack, run_socket_mode, socket_mode_configured
from soar.api.app import create_app
from soar.ingest.forwarder import Forwarder
from soar.ingest.pressure import IngestPressure
from soar.reports.schedule import ensure_digest_schedules
from soar.runtime.metrics import MetricsEndpointError, worker_metrics_runtime
from soar.runtime.search_attribute_setup import ensure_search_attributes
from soar.runtime.services import build_services
from soar.runtime.temporal_client import connect
from soar.runtime.temporal_server import EmbeddedTemporal
from soar.runtime.worker import build_worker
from soar.runtime.yielding import (
    FULL_WIDTH_SIGNAL,
    YIELD_SIGNAL,
    YieldingWorkflowSlots,
    listen_for_ingest_signals,
)
from soar.settings import Settings
from soar.store.db import Store

log = logging.getLogger(__name__)

CONNECT_RETRY_SECONDS = 2.0
WORKER_NICENESS = 10


class _ApiServer(uvicorn.Server):
    """uvicorn without its own signal handling: the stack owns shutdown."""

    def capture_signals(self) -> contextlib.AbstractContextManager[None]:  # type: ignore[override]
        return contextlib.nullcontext()


@dataclass(frozen=True)
class Parts:
    """Which parts this process runs."""

    temporal: bool
    worker: bool
    api: bool
    worker_process: bool = False


async def _connect_when_available(
    settings: Settings, stop: asyncio.Event, runtime: Runtime | None = None
) -> Client | None:
    """Connect, retrying while Temporal is not up yet; None if asked to stop first."""
    while not stop.is_set():
        try:
            return await connect(settings.temporal, runtime=runtime)
        except Exception as error:
            log.warning("waiting for Temporal at %s: %s", settings.temporal.target(), error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), CONNECT_RETRY_SECONDS)
    return None


async def _register_search_attributes(client: Client, stop: asyncio.Event) -> bool:
    """Ensure the namespace has the product's search attributes, retrying while Temporal
    is not reachable; False if asked to stop first."""
    while not stop.is_set():
        try:
            await ensure_search_attributes(client)
            return True
        except Exception as error:
            log.info("search attributes not checked yet, Temporal unreachable: %s", error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), CONNECT_RETRY_SECONDS)
    return False


async def _ensure_digest_schedules(client: Client, settings: Settings) -> None:
    """Make the digests' schedules match `[reports]`. A refusal is logged and the worker
    starts anyway: a missing digest must not stop triage."""
    try:
        await ensure_digest_schedules(client, settings.reports, settings.temporal.task_queue)
    except Exception as error:
        log.warning("the digest schedules could not be created or updated: %s", error)


async def _forward(
    client: Client, forwarder: Forwarder, stop: asyncio.Event, *, register: bool
) -> None:
    """Run the spool forwarder; against a cluster, once its search attributes are
    ensured, so spooled alerts are not refused for want of them."""
    if register and not await _register_search_attributes(client, stop):
        return
    await forwarder.run()


def _signal_worker(child: asyncio.subprocess.Process) -> Callable[[bool], None]:
    """Tell the worker process to yield to the intake, or to run at full width again."""

    def tell(busy: bool) -> None:
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(YIELD_SIGNAL if busy else FULL_WIDTH_SIGNAL)

    return tell


async def _spawn_worker(settings: Settings) -> asyncio.subprocess.Process:
    """Run the worker in its own process, so workflow code and the API each get a core
    (one Python process uses one core at a time), at a lower CPU priority. It has a
    session of its own, so a Ctrl-C at the terminal reaches only `soar up`, which then
    stops it in order (and tells a worker that died from one that was stopped)."""
    temporal = settings.temporal
    chosen = {
        "ADDRESS": temporal.target(),
        "NAMESPACE": temporal.namespace,
        "TASK_QUEUE": temporal.task_queue,
        "TLS_CERT": temporal.tls_cert,
        "TLS_KEY": temporal.tls_key,
        "TLS_CA": temporal.tls_ca,
        "API_KEY": temporal.api_key.get_secret_value() if temporal.api_key else None,
    }
    env = os.environ | {"SOAR_DATA_DIR": str(settings.data_dir)}
    env |= {f"SOAR_TEMPORAL__{name}": str(value) for name, value in chosen.items() if value}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "soar",
        "worker",
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        preexec_fn=_prepare_worker_process,
        start_new_session=True,
    )


def _prepare_worker_process() -> None:
    """Taking alerts in comes first: in a burst the worker yields the CPU to the API and
    catches up after (nothing is lost either way; this only orders the work). The yield
    signals are ignored until the worker listens for them, so one sent during its
    start-up cannot end it."""
    os.nice(WORKER_NICENESS)
    signal.signal(YIELD_SIGNAL, signal.SIG_IGN)
    signal.signal(FULL_WIDTH_SIGNAL, signal.SIG_IGN)


async def _stop_process(process: asyncio.subprocess.Process, grace_seconds: float = 30) -> None:
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    try:
        await asyncio.wait_for(process.wait(), grace_seconds)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


class PartStopped(RuntimeError):
    """A part of the product (the worker, the API, the forwarder, Slack) ended while the
    others were meant to go on: the whole run stops, and the command exits non-zero."""


def _worker_metrics() -> Runtime | None:
    """The runtime serving the worker's SDK metrics, if SOAR_TEMPORAL__METRICS_ADDRESS
    asks for one; an address that cannot be served stops the start in one line."""
    try:
        return worker_metrics_runtime()
    except MetricsEndpointError as error:
        raise PartStopped(str(error)) from None


def _why_ended(task: asyncio.Task[object]) -> str:
    """A part that ended on its own, in words."""
    name = task.get_name()
    if task.cancelled():
        return f"the {name} was cancelled"
    error = task.exception()
    if error is not None:
        return f"the {name} stopped: {type(error).__name__}: {error}"
    result = task.result()
    if isinstance(result, int):
        return f"the {name} process exited with code {result}"
    return f"the {name} stopped"


async def run(
    settings: Settings,
    parts: Parts,
    *,
    on_ready: Callable[[], None] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Start the chosen parts, call `on_ready`, and run until SIGINT/SIGTERM or `stop`."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    async with contextlib.AsyncExitStack() as cleanup:
        if parts.temporal:
            temporal = EmbeddedTemporal(
                db_file=settings.temporal_db_path,
                port=settings.temporal.port,
                ui_port=settings.temporal.ui_port,
                sqlite_pragmas=settings.temporal.sqlite_pragmas,
                namespace=settings.temporal.namespace,
                log_file=settings.data_dir / "temporal.log",
            )
            await temporal.start()
            cleanup.push_async_callback(temporal.stop)
        store = Store(settings.resolved_database_url())
        await store.migrate()
        cleanup.push_async_callback(store.close)
        tasks: list[asyncio.Task[object]] = []
        yield_to_ingest: Callable[[bool], None] | None = None
        if parts.worker and parts.worker_process:
            child = await _spawn_worker(settings)
            cleanup.push_async_callback(_stop_process, child)
            tasks.append(asyncio.create_task(child.wait(), name="worker"))
            yield_to_ingest = _signal_worker(child)
        elif parts.worker:
            client = await _connect_when_available(settings, stop, _worker_metrics())
            if client is None:
                return
            if not parts.temporal and not await _register_search_attributes(client, stop):
                return
            await _ensure_digest_schedules(client, settings)
            slots = YieldingWorkflowSlots()
            listen_for_ingest_signals(slots)
            yield_to_ingest = slots.yield_to_ingest
            worker = build_worker(client, settings, store, workflow_slots=slots)
            tasks.append(asyncio.create_task(worker.run(), name="worker"))
            cleanup.push_async_callback(worker.shutdown)
        if parts.api:
            api_client = await connect(settings.temporal, lazy=True)
            services = build_services(api_client, settings, store)
            if settings.ingest_first and yield_to_ingest is not None:
                services.submitter.pressure = IngestPressure(yield_to_ingest)
            cleanup.callback(services.spool.close)
            forwarder = Forwarder(services.spool, services.submitter.delivery)
            forwarding = _forward(api_client, forwarder, stop, register=not parts.temporal)
            tasks.append(asyncio.create_task(forwarding, name="forwarder"))
            app = create_app(services)
            mount_slack(app, services)
            if socket_mode_configured(services):
                tasks.append(asyncio.create_task(run_socket_mode(services), name="slack"))
            server = _ApiServer(
                uvicorn.Config(
                    app,
                    host=settings.api_host,
                    port=settings.api_port,
                    log_level="warning",
                    lifespan="off",
                    access_log=False,
                )
            )
            tasks.append(asyncio.create_task(server.serve(), name="api"))
            while not server.started and not tasks[-1].done():  # noqa: ASYNC110 - uvicorn has no event
                await asyncio.sleep(0.05)
            if tasks[-1].done():
                tasks[-1].result()

            async def _stop_api() -> None:
                server.should_exit = True
                await asyncio.gather(tasks[-1], return_exceptions=True)

            cleanup.push_async_callback(_stop_api)
        if on_ready:
            on_ready()
        stopped = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([stopped, *tasks], return_when=asyncio.FIRST_COMPLETED)
        ended = [_why_ended(task) for task in tasks if task in done]
        for task in tasks:
            if task.get_name() in ("forwarder", "slack"):
                task.cancel()
        stopped.cancel()
        if ended and not stop.is_set():
            for reason in ended:
                log.error("%s", reason)
            raise PartStopped("; ".join(ended))


async def run_bot(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """Serve the Slack bot over Socket Mode alone (`soar bot --socket`) until stopped."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    store = Store(settings.resolved_database_url())
    await store.migrate()
    services = build_services(await connect(settings.temporal, lazy=True), settings, store)
    bot = asyncio.create_task(run_socket_mode(services), name="slack")
    stopped = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait([bot, stopped], return_when=asyncio.FIRST_COMPLETED)
        if bot.done():
            bot.result()
    finally:
        bot.cancel()
        stopped.cancel()
        await asyncio.gather(bot, return_exceptions=True)
        services.spool.close()
        await store.close()

"""The Temporal SDK's own metrics of a worker process, on a Prometheus endpoint, when asked.

Set `SOAR_TEMPORAL__METRICS_ADDRESS` to `IP:PORT` (for example `127.0.0.1:9464`) in the
environment of `soar worker` (or of `soar up`, whose worker process inherits it) and the
worker serves the SDK's metrics at `http://IP:PORT/metrics`: workflow and activity task
latencies, slots in use, sticky cache, polls. Unset, nothing listens. The name is the
one `[temporal] metrics_address` would have, so it can move into the settings unchanged;
for now it is read from the environment only.

`temporal_workflow_task_execution_latency` gets buckets up to a minute (the SDK's stop
at one second), so a task that takes seconds shows how many.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

METRICS_ADDRESS_VARIABLE = "SOAR_TEMPORAL__METRICS_ADDRESS"

WORKFLOW_TASK_BUCKETS_MS = (
    1.0,
    10.0,
    20.0,
    50.0,
    100.0,
    200.0,
    500.0,
    1000.0,
    2000.0,
    5000.0,
    10_000.0,
    30_000.0,
    60_000.0,
)
"""Milliseconds; the SDK's defaults up to 1,000, then coarser steps to a minute."""


class MetricsEndpointError(RuntimeError):
    """The metrics endpoint asked for cannot be served; the message names the variable."""


def worker_metrics_runtime(environ: Mapping[str, str] = os.environ) -> Runtime | None:
    """A Temporal runtime serving the SDK's metrics where `SOAR_TEMPORAL__METRICS_ADDRESS`
    says (it listens from now on), or None when the variable is unset or empty.

    Raises MetricsEndpointError for an address that is not `IP:PORT` or is taken.
    """
    address = environ.get(METRICS_ADDRESS_VARIABLE, "").strip()
    if not address:
        return None
    config = PrometheusConfig(
        bind_address=address,
        histogram_bucket_overrides={
            "temporal_workflow_task_execution_latency": list(WORKFLOW_TASK_BUCKETS_MS)
        },
    )
    try:
        return Runtime(telemetry=TelemetryConfig(metrics=config))
    except ValueError as error:
        raise MetricsEndpointError(
            f"{METRICS_ADDRESS_VARIABLE}={address!r} cannot be served (IP:PORT, free): {error}"
        ) from None

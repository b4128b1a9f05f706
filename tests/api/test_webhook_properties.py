"""Property test of the whole webhook endpoint: whatever a sender posts — any source
name, content type, credentials and body, well-formed or not — the answer is one of the
documented statuses with a JSON body that says what happened, never a 500.

Hypothesis generates the requests (derandomised, so a run is repeatable); they are then
sent to the real API app, in-process, with the real Temporal dev server behind it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import WEBHOOK_TOKEN

DOCUMENTED = {202, 400, 401, 404, 413, 415, 422}
SOURCES = ["generic", "splunk", "elastic", "wazuh", "alertmanager", "grafana", "sentinel"]
SOURCES += ["guardduty", "graylog", "datadog", "suricata", "edr", "open", "nope", "../x", ""]
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/x-ndjson",
    "text/plain",
    "application/xml",
    "multipart/form-data; boundary=x",
    "",
]
KEYS = ["id", "title", "severity", "time", "src_ip", "host", "user", "alerts", "result", "rule"]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.sampled_from(["critical", "203.0.113.9", "hxxp://x[.]example", "<!channel>", "{{7*7}}"]),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=10)), inner, max_size=6),
    ),
    max_leaves=25,
)


@dataclass(frozen=True)
class Delivery:
    source: str
    content_type: str
    authorization: str | None
    body: bytes


def encode(document: Any, how: str) -> bytes:
    if how == "json":
        return json.dumps(document).encode()
    if how == "ndjson":
        items = document if isinstance(document, list) else [document]
        return b"\n".join(json.dumps(item).encode() for item in items)
    return json.dumps(document).encode()[:-1]


deliveries = st.builds(
    Delivery,
    source=st.sampled_from(SOURCES),
    content_type=st.sampled_from(CONTENT_TYPES),
    authorization=st.sampled_from([f"Bearer {WEBHOOK_TOKEN}"] * 3 + ["Bearer wrong", None]),
    body=st.one_of(
        st.builds(encode, documents, st.sampled_from(["json", "ndjson", "truncated"])),
        st.binary(max_size=200),
    ),
)


def generated(count: int) -> list[Delivery]:
    """`count` deliveries drawn by Hypothesis."""
    found: list[Delivery] = []

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(deliveries)
    def collect(delivery: Delivery) -> None:
        found.append(delivery)

    collect()
    return found


async def test_no_delivery_gets_anything_but_a_documented_answer(api: httpx.AsyncClient) -> None:
    answered: set[int] = set()
    for delivery in generated(300):
        headers = {"Content-Type": delivery.content_type}
        if delivery.authorization:
            headers["Authorization"] = delivery.authorization
        response = await api.post(
            f"/webhooks/{delivery.source}", content=delivery.body, headers=headers
        )
        assert response.status_code in DOCUMENTED, (delivery, response.text)
        body = response.json()
        if response.status_code == 202:
            assert set(body) >= {"accepted", "rejected"}
        else:
            assert body["error"] and body["message"], body
        answered.add(response.status_code)
    assert answered >= {202, 400, 401, 404, 415, 422}

"""Make sure the Temporal namespace knows the product's custom search attributes.

The embedded server registers them with flags when it starts. An existing cluster may
not have them, and then every case workflow fails its tasks when it tags its case
(`Namespace default has no mapping defined for search attribute CaseState`): alerts are
still taken and recorded, but no case moves on. So on start-up against a cluster the
product adds the missing ones through the operator API; where that is not allowed
(Temporal Cloud, where the operator API needs other permissions) it logs which are
missing and how to add them, and carries on: the cases catch up once they exist.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType, SearchAttributeKey
from temporalio.service import RPCError, RPCStatusCode

from soar import search_attributes
from soar.ingest.start_errors import describe, is_refusal

log = logging.getLogger(__name__)

RPC_TIMEOUT = timedelta(seconds=10)

CLI_TYPES = {
    SearchAttributeIndexedValueType.TEXT: "Text",
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.INT: "Int",
    SearchAttributeIndexedValueType.DOUBLE: "Double",
    SearchAttributeIndexedValueType.BOOL: "Bool",
    SearchAttributeIndexedValueType.DATETIME: "Datetime",
    SearchAttributeIndexedValueType.KEYWORD_LIST: "KeywordList",
}


@dataclass(frozen=True)
class Registration:
    """What start-up did: attributes it added, and those still missing with the refusal."""

    added: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    error: str | None = None


def _names(keys: list[SearchAttributeKey[Any]]) -> tuple[str, ...]:
    return tuple(key.name for key in keys)


async def missing_search_attributes(client: Client) -> list[SearchAttributeKey[Any]]:
    """The product's search attributes the client's namespace does not have.

    Raises RPCError when Temporal refuses the listing, or when it cannot be reached.
    """
    response = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace), timeout=RPC_TIMEOUT
    )
    known = set(response.custom_attributes) | set(response.system_attributes)
    return [key for key in search_attributes.ALL if key.name not in known]


def how_to_add(keys: list[SearchAttributeKey[Any]], namespace: str) -> str:
    """The commands an operator runs to add `keys`: the Temporal CLI, or tcld on Cloud."""
    by_type: dict[str, list[str]] = {}
    for key in keys:
        by_type.setdefault(CLI_TYPES[key.indexed_value_type], []).append(key.name)
    temporal = "; ".join(
        f"temporal operator search-attribute create --namespace {namespace} --type {kind} "
        + " ".join(f"--name {name}" for name in names)
        for kind, names in by_type.items()
    )
    tcld = f"tcld namespace search-attributes add --namespace {namespace} " + " ".join(
        f"--search-attribute {key.name}={CLI_TYPES[key.indexed_value_type]}" for key in keys
    )
    return f"`{temporal}` (on Temporal Cloud: `{tcld}`)"


def _warn_missing(keys: list[SearchAttributeKey[Any]], namespace: str, error: RPCError) -> None:
    log.warning(
        "Temporal namespace %s may lack the search attributes %s and they could not be added "
        "(%s). Case workflows cannot tag their cases, and wait, until they exist. Add them "
        "with %s.",
        namespace,
        ", ".join(_names(keys)),
        describe(error),
        how_to_add(keys, namespace),
    )


async def ensure_search_attributes(client: Client) -> Registration:
    """Add the product's search attributes the namespace lacks; "already exists" is fine.

    A refusal (no permission, no operator API) is logged with the commands that fix it
    and returned, not raised. Raises when Temporal cannot be reached, so the caller can
    try again later.
    """
    namespace = client.namespace
    try:
        missing = await missing_search_attributes(client)
    except RPCError as error:
        if not is_refusal(error):
            raise
        everything = list(search_attributes.ALL)
        _warn_missing(everything, namespace, error)
        return Registration(missing=_names(everything), error=describe(error))
    added: list[SearchAttributeKey[Any]] = []
    for position, key in enumerate(missing):
        request = AddSearchAttributesRequest(
            namespace=namespace,
            search_attributes={key.name: IndexedValueType.ValueType(int(key.indexed_value_type))},
        )
        try:
            await client.operator_service.add_search_attributes(request, timeout=RPC_TIMEOUT)
        except RPCError as error:
            if error.status == RPCStatusCode.ALREADY_EXISTS:
                continue
            if not is_refusal(error):
                raise
            still = missing[position:]
            _warn_missing(still, namespace, error)
            return Registration(added=_names(added), missing=_names(still), error=describe(error))
        added.append(key)
    if added:
        log.warning(
            "registered search attributes %s in Temporal namespace %s",
            ", ".join(_names(added)),
            namespace,
        )
    return Registration(added=_names(added))

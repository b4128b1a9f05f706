"""Similar cases: other open cases that share an observable with a case, and the values
marked "ignore for similarity" that never make two cases similar.

Two cases are similar when they hold the same observable (the same type and value, as
the store indexes them by digest) and the other one is open (neither resolved nor
closed). Values every case shares — your own domain, a shared proxy, the DNS resolver —
would make every case similar to every other, so they can be marked: in
`[correlation] ignore_for_similarity` or, at run time, through `POST
/api/similarity/ignored` and `soar cases ignore-observable VALUE`. A mark names a value,
whatever its type: `proxy.corp.example` covers the hostname and the domain. Values are
compared as :func:`similarity_key` normalises them.

Written once here for the API, the CLI (through the API) and the Slack case message.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable

from soar.errors import ConflictError, NotFoundError, OperationError
from soar.store.repository import Repository
from soar.store.views import IgnoredObservable, SimilarCase

MAX_SIMILAR = 10
"""Similar cases shown at most, the most shared first."""
MAX_VALUE = 1000
"""The longest value that can be marked (observable values are capped near this)."""


def similarity_key(value: str) -> str:
    """How a value compares for "ignore for similarity": trimmed, casefolded, without a
    trailing dot, an address in its canonical form (`2001:DB8::0:1` is `2001:db8::1`)."""
    text = value.strip().casefold().rstrip(".")
    try:
        return ipaddress.ip_address(text).compressed
    except ValueError:
        return text


def similarity_digest(value: str) -> str:
    """The store's key of a marked value: SHA-256 of its :func:`similarity_key`."""
    return hashlib.sha256(similarity_key(value).encode("utf-8", "surrogatepass")).hexdigest()


async def similar_cases(
    store: Repository, case_id: str, configured: Iterable[str] = ()
) -> list[SimilarCase]:
    """The open cases sharing an observable with `case_id`, leaving out the values
    marked in the store and the `configured` ones; most shared first, then the most
    recently updated."""
    skipped = {similarity_digest(value) for value in configured}
    return await store.similar_cases(
        case_id, key_of=similarity_digest, ignored=skipped, limit=MAX_SIMILAR
    )


async def ignored(store: Repository, configured: Iterable[str] = ()) -> list[IgnoredObservable]:
    """Every value marked: the configured ones first, then those marked at run time."""
    marks = [IgnoredObservable(value=value, configured=True) for value in configured]
    return marks + await store.list_similarity_ignored()


async def ignore(
    store: Repository, value: str, *, actor: str, reason: str | None = None
) -> IgnoredObservable:
    """Mark `value` "ignore for similarity"; marking it again keeps the first mark."""
    if not similarity_key(value):
        raise OperationError("nothing to ignore: the value is blank")
    await store.ignore_for_similarity(
        similarity_digest(value), value.strip()[:MAX_VALUE], added_by=actor, reason=reason
    )
    mark = await store.get_similarity_ignored(similarity_digest(value))
    assert mark is not None, "the mark was just written"
    return mark


async def unignore(store: Repository, value: str, configured: Iterable[str] = ()) -> None:
    """Take a run-time mark off `value`. A configured value is refused (the
    configuration keeps it); a value not marked is not found."""
    key = similarity_digest(value)
    if key in {similarity_digest(v) for v in configured}:
        raise ConflictError(
            f"{value.strip()!r} is ignored by the configuration: remove it from "
            "[correlation] ignore_for_similarity"
        )
    if not await store.unignore_for_similarity(key):
        raise NotFoundError(f"{value.strip()!r} is not marked ignore-for-similarity")

"""Similar cases and "ignore for similarity" on a real store: SQLite, and PostgreSQL when
SOAR_TEST_DATABASE_URL is set. Cases are written as the case workflow writes them
(`upsert_case`, observables included); the service reads them back."""

from __future__ import annotations

import pytest

from soar.alerts.models import Observable, ObservableRole, ObservableType
from soar.cases import similarity
from soar.cases.models import CaseState
from soar.errors import ConflictError, NotFoundError, OperationError
from soar.store.db import Store
from tests.store import conftest as stores
from tests.store import factories

empty_store = stores.empty_store
"""A fresh store per test: SQLite, and PostgreSQL when SOAR_TEST_DATABASE_URL is set."""
store = stores.store

ATTACKER = Observable(type=ObservableType.IP, value="203.0.113.5", role=ObservableRole.SOURCE)
PROXY = Observable(
    type=ObservableType.HOSTNAME, value="proxy.corp.example", role=ObservableRole.RELATED
)
PROXY_DOMAIN = Observable(type=ObservableType.DOMAIN, value="proxy.corp.example")
EVIL = Observable(type=ObservableType.DOMAIN, value="evil.example", role=ObservableRole.DESTINATION)
LAPTOP = Observable(type=ObservableType.HOSTNAME, value="lt-0042", role=ObservableRole.HOST)
V6 = Observable(type=ObservableType.IP, value="2001:db8::1", role=ObservableRole.SOURCE)


async def seed(store: Store, case_id: str, *observables: Observable, **fields: object) -> None:
    await store.upsert_case(
        factories.case(case_id, observables=list(observables), **fields)  # type: ignore[arg-type]
    )


async def seeded(store: Store) -> None:
    """`a` and the cases around it: `b` shares the attacker and the proxy (as the same
    hostname, and once more as a domain), `c` only the proxy, `d` the attacker but is
    closed, `e` the evil domain but is resolved, `f` nothing."""
    await seed(store, "a", ATTACKER, PROXY, EVIL, LAPTOP)
    await seed(store, "b", ATTACKER, PROXY, PROXY_DOMAIN, updated_at=factories.at(5))
    await seed(store, "c", PROXY, updated_at=factories.at(9))
    await seed(store, "d", ATTACKER, state=CaseState.CLOSED)
    await seed(store, "e", EVIL, state=CaseState.RESOLVED)
    await seed(store, "f", V6)


def summary(found: list[object]) -> list[tuple[str, int, list[tuple[str, str]]]]:
    return [
        (case.id, case.shared, [(m.type.value, m.value) for m in case.matched])  # type: ignore[attr-defined]
        for case in found
    ]


async def test_open_cases_sharing_an_observable_are_similar_with_what_they_share(
    store: Store,
) -> None:
    await seeded(store)

    found = await similarity.similar_cases(store, "a")

    assert summary(found) == [
        ("b", 2, [("hostname", "proxy.corp.example"), ("ip", "203.0.113.5")]),
        ("c", 1, [("hostname", "proxy.corp.example")]),
    ]
    assert (found[0].title, found[0].state, found[0].severity.value) == ("Case b", "new", "high")
    assert await similarity.similar_cases(store, "f") == []
    assert await similarity.similar_cases(store, "no-such-case") == []


async def test_a_configured_value_is_ignored_however_it_is_spelled(store: Store) -> None:
    await seeded(store)

    found = await similarity.similar_cases(store, "a", ["  PROXY.Corp.Example. "])

    assert summary(found) == [("b", 1, [("ip", "203.0.113.5")])]


async def test_a_value_marked_at_run_time_is_ignored_until_unmarked(store: Store) -> None:
    await seeded(store)

    mark = await similarity.ignore(store, "203.0.113.5", actor="alice", reason="our NAT")
    again = await similarity.ignore(store, " 203.0.113.5 ", actor="mallory", reason="later")

    assert (mark.value, mark.added_by, mark.reason, mark.configured) == (
        "203.0.113.5",
        "alice",
        "our NAT",
        False,
    )
    assert again == mark, "the first mark stands"
    assert summary(await similarity.similar_cases(store, "a")) == [
        ("c", 1, [("hostname", "proxy.corp.example")]),
        ("b", 1, [("hostname", "proxy.corp.example")]),
    ], "as many shared: the most recently updated first"
    marks = await similarity.ignored(store, ["proxy.corp.example"])
    assert [(m.value, m.configured, m.added_by) for m in marks] == [
        ("proxy.corp.example", True, None),
        ("203.0.113.5", False, "alice"),
    ]

    await similarity.unignore(store, "203.0.113.5")

    assert [c.id for c in await similarity.similar_cases(store, "a")] == ["b", "c"]
    with pytest.raises(NotFoundError, match="not marked"):
        await similarity.unignore(store, "203.0.113.5")
    with pytest.raises(ConflictError, match=r"\[correlation\] ignore_for_similarity"):
        await similarity.unignore(store, "Proxy.corp.example", ["proxy.corp.example"])
    with pytest.raises(OperationError, match="blank"):
        await similarity.ignore(store, "  ", actor="alice")


async def test_an_address_mark_holds_in_any_spelling(store: Store) -> None:
    await seed(store, "v1", V6, LAPTOP)
    await seed(store, "v2", V6)

    assert [c.id for c in await similarity.similar_cases(store, "v1")] == ["v2"]
    await similarity.ignore(store, "2001:DB8:0::0:1", actor="alice")

    assert await similarity.similar_cases(store, "v1") == []


async def test_many_similar_cases_are_bounded_and_hostile_values_stay_data(store: Store) -> None:
    hostile = Observable(type=ObservableType.DOMAIN, value="x\x00<!channel>.example")
    await seed(store, "h0", hostile, ATTACKER)
    for n in range(1, similarity.MAX_SIMILAR + 5):
        await seed(store, f"h{n}", hostile, updated_at=factories.at(n))

    found = await similarity.similar_cases(store, "h0")

    assert len(found) == similarity.MAX_SIMILAR
    assert [c.id for c in found] == [f"h{n}" for n in range(similarity.MAX_SIMILAR + 4, 4, -1)]
    assert found[0].matched[0].value.endswith("<!channel>.example")

"""Who holds an IP address or a domain, from its registry's RDAP record.

Ownership is context, not reputation: the verdict is `unknown` with the holder in the
first reason — the network's name and range, its holder and country for an address;
the registrar, the registrant (when published) and the registration date for a domain —
with one exception: a domain registered fewer than `young_domain_days` (30) days ago is
`suspicious` (score 40), since phishing and malware domains are mostly used within days
of their registration. Being held by a known company never makes anything benign: cloud
and hosting networks carry much of the internet's abuse.

A name below a registered domain (`mail.evil.example`) has no record of its own: the
registry answers 404, and the name one label up is asked (at most four labels up, and
never a bare TLD), so the answer is the registered domain's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from integrations.rdap.client import RdapClient
from integrations.rdap.options import RdapOptions
from soar.alerts.models import Observable, ObservableType
from soar.alerts.observables import domain_observable, ip_observable
from soar.enrichment.models import Enrichment, Verdict
from soar.integrations.errors import RequestRejected

YOUNG_SCORE = 40
MAX_PARENTS = 4
"""Labels dropped at most when walking up to the registered domain."""


class RdapEnricher:
    """Looks IP addresses and domains up over RDAP; see the module docstring."""

    def __init__(self, name: str, options: RdapOptions) -> None:
        self.name = name
        self.options = options
        """Read by the engine: the marking limit, the time-to-live, the rate."""
        self.client = RdapClient(name, options)

    async def aclose(self) -> None:
        await self.client.aclose()

    def supports(self, observable: Observable) -> bool:
        return self._canonical(observable) is not None

    async def enrich(self, observable: Observable) -> Enrichment:
        """The holder of the address or domain; anything else is refused before any
        call."""
        value = self._canonical(observable)
        if value is None:
            raise RequestRejected(self.name, "RDAP looks up IP addresses and domains only")
        if observable.type is ObservableType.IP:
            network = await self.client.ip_network(value)
            if network is None:
                return self._nothing(observable, f"RDAP has no record of {value}")
            return self._network(observable, value, network)
        name = value
        for _ in range(MAX_PARENTS + 1):
            record = await self.client.domain(name)
            if record is not None:
                return self._domain(observable, value, name, record)
            parent = name.split(".", 1)[1]
            if parent.count(".") == 0:
                break
            name = parent
        return self._nothing(observable, f"RDAP has no registration of {value}")

    @staticmethod
    def _canonical(observable: Observable) -> str | None:
        if observable.type is ObservableType.IP:
            valid = ip_observable(observable.value)
        elif observable.type is ObservableType.DOMAIN:
            valid = domain_observable(observable.value)
        else:
            return None
        return valid.value if valid is not None else None

    def _nothing(self, observable: Observable, words: str) -> Enrichment:
        return Enrichment(
            provider=self.name, observable=observable, reasons=[words], data={"found": False}
        )

    def _network(self, observable: Observable, address: str, record: dict[str, Any]) -> Enrichment:
        holder = _holder(record, ("registrant", "administrative"))
        network = record.get("name") or record.get("handle") or "a network"
        span = ""
        if record.get("startAddress") and record.get("endAddress"):
            span = f" {record['startAddress']} - {record['endAddress']}"
        country = f", {record['country']}" if record.get("country") else ""
        first = f"RDAP: {address} is in {network}{span}{country}"
        if holder:
            first += f", held by {holder}"
        registered = _event(record, "registration")
        return Enrichment(
            provider=self.name,
            observable=observable,
            reasons=[first, *_contacts(record, registered)],
            data={
                "found": True,
                "network": network,
                "handle": record.get("handle"),
                "start": record.get("startAddress"),
                "end": record.get("endAddress"),
                "country": record.get("country"),
                "holder": holder,
                "abuse_email": _abuse_email(record),
                "registered": registered.isoformat() if registered else None,
                "raw": record,
            },
            link=_self_link(record),
        )

    def _domain(
        self, observable: Observable, asked: str, name: str, record: dict[str, Any]
    ) -> Enrichment:
        registrar = _holder(record, ("registrar",))
        registrant = _holder(record, ("registrant",))
        registered = _event(record, "registration")
        through = f" through {registrar}" if registrar else ""
        under = f"{asked} is under {name}, which" if asked != name else name
        verdict, score = Verdict.UNKNOWN, 0
        age: int | None = None
        if registered is None:
            first = f"RDAP: {under} is registered{through}; its registration date is not published"
        else:
            age = (datetime.now(UTC) - registered).days
            young = self.options.young_domain_days
            if young is not None and age < young:
                verdict, score = Verdict.SUSPICIOUS, YOUNG_SCORE
                first = (
                    f"RDAP: {under} was registered only {age} days ago, on "
                    f"{registered:%Y-%m-%d}{through}"
                )
            else:
                first = f"RDAP: {under} was registered on {registered:%Y-%m-%d}{through}"
        reasons = [first]
        if registrant:
            reasons.append(f"registrant: {registrant}")
        expires = _event(record, "expiration")
        if expires is not None:
            reasons.append(f"registration expires on {expires:%Y-%m-%d}")
        return Enrichment(
            provider=self.name,
            observable=observable,
            verdict=verdict,
            score=score,
            reasons=reasons,
            data={
                "found": True,
                "domain": name,
                "registrar": registrar,
                "registrant": registrant,
                "registered": registered.isoformat() if registered else None,
                "age_days": age,
                "abuse_email": _abuse_email(record),
                "raw": record,
            },
            link=_self_link(record),
        )


def _entities(record: dict[str, Any]) -> list[dict[str, Any]]:
    """Every entity of the record, nested ones too (a registrar's abuse contact)."""
    found: list[dict[str, Any]] = []
    pending = [e for e in record.get("entities") or [] if isinstance(e, dict)]
    while pending:
        entity = pending.pop(0)
        found.append(entity)
        pending.extend(e for e in entity.get("entities") or [] if isinstance(e, dict))
    return found


def _vcard(entity: dict[str, Any], field: str) -> str | None:
    """The first text value of a vCard property (jCard, RFC 7095) of the entity."""
    card = entity.get("vcardArray")
    if not isinstance(card, list) or len(card) != 2 or not isinstance(card[1], list):
        return None
    for prop in card[1]:
        if isinstance(prop, list) and len(prop) >= 4 and prop[0] == field:
            value = prop[3]
            if isinstance(value, list):
                value = " ".join(str(part) for part in value if part)
            return str(value).strip() or None
    return None


def _holder(record: dict[str, Any], roles: tuple[str, ...]) -> str | None:
    """The name of the first entity in one of `roles` (its organisation, else its full
    name), in the order the roles are given."""
    entities = _entities(record)
    for role in roles:
        for entity in entities:
            if role in (entity.get("roles") or []):
                name = _vcard(entity, "org") or _vcard(entity, "fn")
                if name:
                    return name
    return None


def _abuse_email(record: dict[str, Any]) -> str | None:
    for entity in _entities(record):
        if "abuse" in (entity.get("roles") or []):
            email = _vcard(entity, "email")
            if email:
                return email
    return None


def _event(record: dict[str, Any], action: str) -> datetime | None:
    """When the record's `action` event (registration, expiration…) took place."""
    for event in record.get("events") or []:
        if isinstance(event, dict) and event.get("eventAction") == action:
            try:
                moment = datetime.fromisoformat(str(event.get("eventDate")))
            except ValueError:
                return None
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def _contacts(record: dict[str, Any], registered: datetime | None) -> list[str]:
    lines = []
    email = _abuse_email(record)
    if email:
        lines.append(f"abuse contact: {email}")
    if registered is not None:
        lines.append(f"network registered on {registered:%Y-%m-%d}")
    return lines


def _self_link(record: dict[str, Any]) -> str | None:
    """The record's own https address (its `self` link), if it gives one."""
    for link in record.get("links") or []:
        if isinstance(link, dict) and link.get("rel") == "self":
            href = str(link.get("href") or "")
            if href.startswith("https://"):
                return href
    return None

"""GreyNoise's opinion of an IPv4 address: whether it is internet background noise (a
mass scanner, a worm) and of what intent, or a common business service (RIOT).

The Community API looks up IPv4 addresses only; an IPv6 address is not supported.

==================================================  ==========  =====
what GreyNoise says                                 verdict     score
==================================================  ==========  =====
`classification` malicious                          malicious   90
`classification` suspicious                         suspicious  50
seen scanning (`noise`), intent unknown             suspicious  40
`riot`: a common business service (a CDN, a DNS     benign      0
resolver, Microsoft 365…)
`classification` benign (a known research scanner)  benign      0
not observed (404)                                  unknown     0
==================================================  ==========  =====

An address that scans the whole internet with no known intent is suspicious rather
than unknown: it is not aimed at us, but it is no customer either, and blocking it at
the edge costs nothing.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from integrations.greynoise.client import GreyNoiseClient
from integrations.greynoise.options import GreyNoiseOptions
from soar.alerts.models import Observable, ObservableType
from soar.alerts.observables import ip_observable
from soar.enrichment.models import Enrichment, Verdict
from soar.integrations.errors import RequestRejected

LINK = "https://viz.greynoise.io/ip/{address}"

CLASSIFIED = {
    "malicious": (Verdict.MALICIOUS, 90),
    "suspicious": (Verdict.SUSPICIOUS, 50),
    "benign": (Verdict.BENIGN, 0),
}
NOISE = (Verdict.SUSPICIOUS, 40)


class GreyNoiseEnricher:
    """Looks IPv4 addresses up in the GreyNoise Community API; see the module docstring."""

    def __init__(self, name: str, options: GreyNoiseOptions) -> None:
        self.name = name
        self.options = options
        """Read by the engine: the marking limit, the time-to-live, the rate."""
        self.client = GreyNoiseClient(name, options)

    async def aclose(self) -> None:
        await self.client.aclose()

    def supports(self, observable: Observable) -> bool:
        return self._address(observable) is not None

    async def enrich(self, observable: Observable) -> Enrichment:
        """GreyNoise's answer; anything but an IPv4 address is refused before any call."""
        address = self._address(observable)
        if address is None:
            raise RequestRejected(
                self.name, "the GreyNoise Community API looks up IPv4 addresses only"
            )
        answer = await self.client.community(address)
        link = LINK.format(address=address)
        if answer is None:
            return Enrichment(
                provider=self.name,
                observable=observable,
                verdict=Verdict.UNKNOWN,
                reasons=[
                    f"GreyNoise has not seen {address} scanning the internet, and it is not a "
                    "known business service"
                ],
                data={"noise": False, "riot": False},
                link=link,
            )
        return self._read(observable, address, answer, link)

    @staticmethod
    def _address(observable: Observable) -> str | None:
        if observable.type is not ObservableType.IP:
            return None
        valid = ip_observable(observable.value)
        if valid is None or ipaddress.ip_address(valid.value).version != 4:
            return None
        return valid.value

    def _read(
        self, observable: Observable, address: str, answer: dict[str, Any], link: str
    ) -> Enrichment:
        classification = str(answer.get("classification") or "unknown").lower()
        name = answer.get("name")
        who = f" ({name})" if name and name != "unknown" else ""
        last_seen = answer.get("last_seen")
        seen = f", last seen {last_seen}" if last_seen else ""
        riot, noise = answer.get("riot") is True, answer.get("noise") is True
        if riot:
            verdict, score = Verdict.BENIGN, 0
            first = (
                f"GreyNoise: {address} is {name or 'a known service'}, a common business "
                "service (RIOT)"
            )
        elif classification in CLASSIFIED:
            verdict, score = CLASSIFIED[classification]
            first = (
                f"GreyNoise: {address}{who} is seen scanning the internet and classified "
                f"{classification}{seen}"
            )
        elif noise:
            verdict, score = NOISE
            first = f"GreyNoise: {address}{who} is seen scanning the internet, intent unknown{seen}"
        else:
            verdict, score = Verdict.UNKNOWN, 0
            first = f"GreyNoise knows {address} but has no classification of it"
        return Enrichment(
            provider=self.name,
            observable=observable,
            verdict=verdict,
            score=score,
            reasons=[first],
            data={
                "noise": noise,
                "riot": riot,
                "classification": classification,
                "name": name,
                "raw": answer,
            },
            link=link,
        )

"""The `nftables` actuator: blocks networks and isolates the host it is configured for.

- `deny` an `ipv4_net` / `ipv6_net`: an element of the table's blocklist set, with the
  command's duration as its own timeout and the case id as its comment. The table is
  read first; only what is missing is written, in one `nft -f` transaction (the table,
  sets and chains when they are not as expected, and the element when no element
  already covers the network). Revert deletes the element; one that is gone is done.
- `contain` a `hostname`: this actuator is configured per host, so it isolates the host
  it connects to — and only handles a target that names it (`host` or one of
  `hostnames`). Isolation keeps the management addresses reachable; the address this
  product connects from, as the host sees it, must be one of them, or the command is
  refused rather than cutting the product off its own means of undoing it.

Nothing is ever blocked that would cut this product's SSH session (a block of a network
holding its address is refused). The layout on the host is in
:mod:`integrations.nftables.ruleset`.
"""

from __future__ import annotations

from typing import Any

from integrations.nftables import ruleset
from integrations.nftables.client import Nft, NftShell
from integrations.nftables.options import NftablesOptions, host_name
from integrations.nftables.ruleset import IPNetwork, Listing
from soar.containment.actuators import ActuatorResult
from soar.containment.models import ContainmentCommand, ContainmentVerb, TargetType
from soar.integrations.errors import RequestRejected, TransientError

NETWORK_TARGETS = frozenset({TargetType.IPV4_NET, TargetType.IPV6_NET})


class NftablesActuator:
    """Blocks networks and isolates one Linux host over SSH; see the module docstring."""

    def __init__(self, name: str, options: NftablesOptions) -> None:
        self._name = name
        self.options = options
        self.shell = NftShell(name, options)
        self.nft = Nft(self.shell)
        self._names = options.names()

    @property
    def name(self) -> str:
        return self._name

    @property
    def table(self) -> str:
        return self.options.table

    def handles(self, command: ContainmentCommand) -> bool:
        if command.action is ContainmentVerb.DENY:
            return command.target.type in NETWORK_TARGETS
        if command.action is ContainmentVerb.CONTAIN:
            return (
                command.target.type is TargetType.HOSTNAME
                and host_name(command.target.value) in self._names
            )
        return False

    async def apply(self, command: ContainmentCommand) -> ActuatorResult:
        if not self.handles(command):
            return self._unhandled(command)
        if command.action is ContainmentVerb.DENY:
            return await self._block(command)
        return await self._isolate(command)

    async def verify(self, command: ContainmentCommand) -> bool:
        if not self.handles(command):
            return False
        if command.action is ContainmentVerb.DENY:
            network = ruleset.network_of(command.target.value)
            listing = await self._read(self.table)
            return (
                listing is not None
                and ruleset.blocklist_ready(listing, self.options.hooks)
                and any(e.covers(network) for e in listing.elements(_set(network)))
            )
        return ruleset.isolation_in_effect(
            await self._read(ruleset.isolation_table(self.table)), self.options.management
        )

    async def revert(self, command: ContainmentCommand) -> ActuatorResult:
        if not self.handles(command):
            return self._unhandled(command)
        if command.action is ContainmentVerb.DENY:
            return await self._unblock(command)
        return await self._release()

    async def aclose(self) -> None:
        """Close the SSH connection (tests and benchmarks; a worker keeps it open)."""
        await self.shell.aclose()

    # -- blocking ----------------------------------------------------------------------

    async def _block(self, command: ContainmentCommand) -> ActuatorResult:
        network = ruleset.network_of(command.target.value)
        shown = ruleset.show(network)
        refusal = await self._cuts_off_this_product(network)
        if refusal is not None:
            return ActuatorResult(ok=False, detail=refusal)
        listing = await self._read(self.table)
        problems = ruleset.blocklist_problems(listing) if listing is not None else []
        if problems:
            return ActuatorResult(ok=False, detail=f"cannot block {shown}: {'; '.join(problems)}")
        held = listing.elements(_set(network)) if listing is not None else []
        inside = [e for e in held if e.overlaps(network) and not e.covers(network)]
        if inside:
            names = ", ".join(e.described() for e in inside)
            return ActuatorResult(
                ok=False,
                detail=f"cannot block {shown}: the blocklist already holds {names} inside "
                "it, and an nft interval set takes no overlapping elements; revert those "
                "first, or block them alone",
            )
        covering = next((e for e in held if e.covers(network)), None)
        ready = listing is not None and ruleset.blocklist_ready(listing, self.options.hooks)
        data = self._block_data(network)
        if covering is not None and ready:
            return ActuatorResult(
                ok=True, detail=f"already blocked: {_held(covering, network)}", data=data
            )
        lines = (
            [] if ready else ruleset.blocklist_structure(self.table, self.options.hooks, listing)
        )
        if covering is None:
            element = ruleset.element_text(
                network,
                command.args.duration_seconds,
                ruleset.comment(command.args.reference),
            )
            lines.append(f"add element inet {self.table} {_set(network)} {element}")
        await self._write(lines, shown)
        duration = command.args.duration_seconds
        until = f" for {duration} s" if duration is not None else " until reverted"
        if covering is not None:
            done = f"already blocked ({_held(covering, network)}); the drop rules were rewritten"
        else:
            done = f"blocked {shown}{until} in inet {self.table} {_set(network)}"
        return ActuatorResult(
            ok=True,
            detail=f"{done} (dropped on {', '.join(self.options.hooks)})",
            data=data,
        )

    async def _unblock(self, command: ContainmentCommand) -> ActuatorResult:
        network = ruleset.network_of(command.target.value)
        shown = ruleset.show(network)
        script = f"delete element inet {self.table} {_set(network)} {{ {shown} }}\n"
        done = await self.nft.apply(script)
        if not done.ok:
            return ActuatorResult(
                ok=True,
                detail=f"{shown} was not in the blocklist of inet {self.table}",
                data=self._block_data(network),
            )
        return ActuatorResult(
            ok=True,
            detail=f"unblocked {shown} (removed from inet {self.table} {_set(network)})",
            data=self._block_data(network),
        )

    async def _write(self, lines: list[str], shown: str) -> None:
        """Run the block's statements as one transaction. A set that refuses the element
        as overlapping changed since it was read (another block ran at once): that is
        retried, and the retry reads it again."""
        try:
            done = await self.nft.apply("\n".join(lines) + "\n")
        except RequestRejected as error:
            if "overlaps" in error.reason:
                raise TransientError(
                    self.name,
                    f"the blocklist changed while {shown} was being added; reading it again",
                ) from None
            raise
        if not done.ok:
            raise TransientError(
                self.name, f"the table inet {self.table} vanished while {shown} was being added"
            )

    async def _cuts_off_this_product(self, network: IPNetwork) -> str | None:
        """Why blocking `network` would cut this product's own SSH session, if it would."""
        peer = await self.shell.peer_address()
        if peer is None or peer.version != network.version or peer not in network:
            return None
        return (
            f"refused: {ruleset.show(network)} holds {peer}, the address this product "
            f"reaches {self.shell.where} from; blocking it would cut the product off"
        )

    def _block_data(self, network: IPNetwork) -> dict[str, Any]:
        return {
            "table": f"inet {self.table}",
            "set": _set(network),
            "element": ruleset.show(network),
            "hooks": list(self.options.hooks),
        }

    # -- isolation ---------------------------------------------------------------------

    async def _isolate(self, command: ContainmentCommand) -> ActuatorResult:
        host = self.shell.where
        management = self.options.management
        table = ruleset.isolation_table(self.table)
        if not management:
            return ActuatorResult(
                ok=False,
                detail=f"cannot isolate {host}: no management addresses are configured, so "
                "nothing (this product included) could reach it afterwards",
            )
        peer = await self.shell.peer_address()
        if peer is None:
            return ActuatorResult(
                ok=False,
                detail=f"cannot isolate {host}: it does not say which address this product "
                "connects from (SSH_CONNECTION is unset), so isolation could cut it off",
            )
        if not ruleset.covered(peer, management):
            return ActuatorResult(
                ok=False,
                detail=f"refused: this product reaches {host} from {peer}, which "
                "`management` does not cover; isolating would cut the product off — add "
                "its address to management",
            )
        data = {"table": f"inet {table}", "management": list(management)}
        if ruleset.isolation_in_effect(await self._read(table), management):
            return ActuatorResult(ok=True, detail=f"{host} is already isolated", data=data)
        note = ruleset.comment(command.args.reference)
        await self.nft.apply(ruleset.isolation_script(self.table, management, note))
        return ActuatorResult(
            ok=True,
            detail=f"isolated {host}: only loopback and {', '.join(management)} reach it "
            f"(table inet {table})",
            data=data,
        )

    async def _release(self) -> ActuatorResult:
        table = ruleset.isolation_table(self.table)
        done = await self.nft.apply(f"delete table inet {table}\n")
        data = {"table": f"inet {table}"}
        if not done.ok:
            return ActuatorResult(ok=True, detail=f"{self.shell.where} was not isolated", data=data)
        return ActuatorResult(
            ok=True, detail=f"released {self.shell.where} from isolation", data=data
        )

    # -- shared ------------------------------------------------------------------------

    async def _read(self, table: str) -> Listing | None:
        objects = await self.nft.read(f"table inet {table}")
        return Listing.of(objects) if objects is not None else None

    def _unhandled(self, command: ContainmentCommand) -> ActuatorResult:
        return ActuatorResult(
            ok=False,
            detail=f"{self.name} cannot {command.action.value} {command.target.value}: it "
            f"blocks networks and isolates {', '.join(sorted(self._names))} only",
        )


def _set(network: IPNetwork) -> str:
    return ruleset.set_name(network.version)


def _held(element: ruleset.Element, network: IPNetwork) -> str:
    """How an element that covers `network` holds it, for a detail."""
    expiry = f", expires in {element.expires} s" if element.expires is not None else ""
    if element.equals(network):
        return f"{element.described()}{expiry}"
    return f"{ruleset.show(network)} lies in {element.described()}{expiry}"

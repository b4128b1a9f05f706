"""A small network in Linux network namespaces, for the nftables tests and benchmark.

::

    this process (root namespace)  198.18.R.1 ──┐  management link
                                                │
                      gw   198.18.R.2  sshd :2222, nftables, forwarding
           ┌────────────────┼─────────────────────┐
          atk              srv                   mgmt
    198.18.R.66 (attacker)  198.18.R.130         198.18.R.194
    198.18.R.67 (bystander) listener :8080
    198.18.R.72/29          sshd :22, nftables
    192.88.99.66
    fd00:0:0:1::2           fd00:0:0:2::2

`R` is a /24 of the benchmarking range 198.18.0.0/16 that this namespace does not use
yet, so labs of parallel runs do not meet; everything else lives inside the lab's own
namespaces (names start with a unique prefix). The only trace in this process's
namespace is one veth with one address and a route to the protected host's link, gone
when the lab stops. 192.88.99.66 is from the deprecated 6to4 relay block (RFC 7526): an
address the product classifies as public — its `malicious_ip` playbook only blocks
public addresses — that nothing real uses, and that exists only inside the lab.

The gateway and the protected host each run their own sshd (host key, config and
authorized_keys in the lab's directory; root logs in with a generated key only) and an
`nft monitor` whose output counts firewall transactions. Their sshd puts a wrapper
first on PATH that runs `/usr/sbin/nft`, slowed down while a test asks for it, and sets
SHLVL=1: Debian's bash runs root's ~/.bashrc for every command sshd starts (on a
developer machine that can be a `pyenv init` of a tenth of a second), unless it is a
nested shell — the lab measures the product, not that file.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh

from soar.containment.models import ContainmentCommand, ContainmentVerb

REQUIRED_TOOLS = ("ip", "nft", "sshd", "stdbuf")
SSHD = "/usr/sbin/sshd"
PUBLIC_ATTACKER = "192.88.99.66"
READY_WITHIN = 10.0
PROBE = """
import socket, sys
source, target, port, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
family = socket.AF_INET6 if ":" in target else socket.AF_INET
with socket.socket(family, socket.SOCK_STREAM) as s:
    s.settimeout(timeout)
    s.bind((source, 0))
    try:
        s.connect((target, port))
    except TimeoutError:
        sys.exit(2)
    except OSError:
        sys.exit(3)
"""
NFT_WRAPPER = """#!/bin/sh
# nft as this lab host runs it: a change (nft -f) waits while {slow} says so
# ("<times> <seconds>"), then the real nft runs.
if [ "$1" = "-f" ] && [ -s "{slow}" ]; then
    read times seconds < "{slow}"
    if [ "$times" -gt 1 ]; then echo "$((times - 1)) $seconds" > "{slow}"; else : > "{slow}"; fi
    sleep "$seconds"
fi
exec /usr/sbin/nft "$@"
"""


def missing_requirements() -> list[str]:
    """What this machine lacks to run a lab, in words."""
    missing = [] if os.geteuid() == 0 else ["root"]
    for tool in REQUIRED_TOOLS:
        if shutil.which(tool) is None and not Path("/usr/sbin", tool).exists():
            missing.append(f"`{tool}`")
    return missing


def run(*command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a short command to completion (its output read in full)."""
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip()}")
    return done


@dataclass
class Host:
    """A namespace of the lab that runs sshd and nftables."""

    namespace: str
    address: str
    port: int
    directory: Path
    host_key: asyncssh.SSHKey
    monitor_log: Path = field(init=False)
    marks: int = 0
    seen: int = 0
    """Where the monitor log stood at the last :meth:`reset`."""

    def __post_init__(self) -> None:
        self.monitor_log = self.directory / "nft-monitor.log"

    @property
    def slow_file(self) -> Path:
        return self.directory / "slow"

    def nft(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run("ip", "netns", "exec", self.namespace, "/usr/sbin/nft", *args, check=check)

    def nft_script(self, script: str) -> None:
        path = self.directory / f"script-{uuid.uuid4().hex[:8]}.nft"
        path.write_text(script)
        self.nft("-f", str(path))

    def listing(self, what: str) -> list[dict[str, Any]] | None:
        """`nft -j list <what>` on this host, or None when it does not exist."""
        done = self.nft("-j", "list", *what.split(), check=False)
        if done.returncode != 0:
            return None
        return [item for item in json.loads(done.stdout)["nftables"] if "metainfo" not in item]

    def set_elements(self, table: str, name: str) -> list[Any]:
        found = self.listing(f"set inet {table} {name}") or []
        return [e for item in found if "set" in item for e in item["set"].get("elem", [])]

    def slow_down(self, times: int, seconds: float) -> None:
        """Make the next `times` changes (nft -f) wait `seconds` before they run."""
        self.slow_file.write_text(f"{times} {seconds:g}\n")

    def reset(self) -> None:
        """Empty the firewall and start counting transactions afresh."""
        self.slow_file.write_text("")
        self.nft("flush", "ruleset")
        self.seen = len(self._synced())

    def transactions(self) -> list[list[str]]:
        """The firewall's transactions since the last reset, each as its lines of
        `nft monitor`."""
        return [b for b in self._synced()[self.seen :] if not any("labmark" in x for x in b)]

    def _synced(self, *, within: float = READY_WITHIN) -> list[list[str]]:
        """Every transaction the monitor wrote. A marker transaction is made first and
        waited for, so every change made before the call is in."""
        self.marks += 1
        mark = f"labmark{self.marks}"
        self.nft_script(f"add table inet {mark}\ndelete table inet {mark}\n")
        deadline = time.monotonic() + within
        while True:
            blocks = _generations(self.monitor_log.read_text())
            if any(f"delete table inet {mark}" in line for block in blocks for line in block):
                return blocks
            if time.monotonic() > deadline:
                raise MonitorNotSeen(f"nft monitor in {self.namespace} did not see {mark}")
            time.sleep(0.01)

    def await_monitor(self) -> None:
        """Return once the monitor just started reports changes: a marker made before it
        listens is never reported, so a new one is made until one is."""
        deadline = time.monotonic() + READY_WITHIN
        while True:
            try:
                self._synced(within=0.5)
                break
            except MonitorNotSeen:
                if time.monotonic() > deadline:
                    raise
        self.reset()


class MonitorNotSeen(RuntimeError):
    """The host's `nft monitor` did not report a marker transaction in time."""


def _generations(text: str) -> list[list[str]]:
    """`nft monitor` output cut into transactions (each ends with "# new generation")."""
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith("# new generation"):
            blocks.append(current)
            current = []
        elif line.strip():
            current.append(line.strip())
    return blocks


class Lab:
    """The namespaces, links, sshd and listener of the module docstring."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.prefix = f"snft-{uuid.uuid4().hex[:6]}"
        self.block = _free_block()
        self.root_link = f"snft{self.prefix[-6:]}"
        self.processes: list[subprocess.Popen[bytes]] = []
        self.logs: list[Any] = []
        self.client_key = asyncssh.generate_private_key("ssh-ed25519")
        self.client_key_file = directory / "client_ed25519"
        self.other_key_file = directory / "other_ed25519"
        self.listener_port = 8080
        self.gateway = self._host("gw", self.ip(2), 2222)
        self.protected = self._host("srv", self.ip(130), 22)

    def ip(self, last: int) -> str:
        return str(self.block.network_address + last)

    def namespace(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    @property
    def product_address(self) -> str:
        return self.ip(1)

    @property
    def attacker(self) -> str:
        return self.ip(66)

    @property
    def bystander(self) -> str:
        return self.ip(67)

    @property
    def attacker_block(self) -> str:
        return f"{self.ip(72)}/29"

    @property
    def management_host(self) -> str:
        return self.ip(194)

    attacker6 = "fd00:0:0:1::2"
    protected6 = "fd00:0:0:2::2"

    def _host(self, name: str, address: str, port: int) -> Host:
        directory = self.directory / name
        directory.mkdir()
        return Host(
            self.namespace(name),
            address,
            port,
            directory,
            asyncssh.generate_private_key("ssh-ed25519"),
        )

    # -- building ----------------------------------------------------------------------

    def start(self) -> None:
        try:
            self._build_network()
            self._write_keys()
            for host in (self.gateway, self.protected):
                self._start_sshd(host)
                self._start_monitor(host)
            self._start_listener()
            for address, port in (
                (self.gateway.address, self.gateway.port),
                (self.protected.address, self.protected.port),
                (self.protected.address, self.listener_port),
            ):
                _wait_for_port(address, port)
        except BaseException:
            self.stop()
            raise

    def _build_network(self) -> None:
        gw, atk, srv, mgmt = (self.namespace(n) for n in ("gw", "atk", "srv", "mgmt"))
        for ns in (gw, atk, srv, mgmt):
            run("ip", "netns", "add", ns)
            run("ip", "-n", ns, "link", "set", "lo", "up")
            # No duplicate address detection: a tentative link-local address would keep
            # IPv6 neighbour discovery, and so every IPv6 packet, waiting.
            for scope in ("all", "default"):
                run(
                    "ip",
                    "netns",
                    "exec",
                    ns,
                    "sysctl",
                    "-q",
                    "-w",
                    f"net.ipv6.conf.{scope}.accept_dad=0",
                )
        run("ip", "link", "add", self.root_link, "type", "veth", "peer", "name", "up0", "netns", gw)
        for ns, inside, outside in (
            (atk, "eth0", "atk0"),
            (srv, "eth0", "srv0"),
            (mgmt, "eth0", "mgmt0"),
        ):
            run(
                "ip",
                "link",
                "add",
                "name",
                inside,
                "netns",
                ns,
                "type",
                "veth",
                "peer",
                "name",
                outside,
                "netns",
                gw,
            )
        run("sysctl", "-q", "-w", f"net.ipv6.conf.{self.root_link}.disable_ipv6=1")
        run("ip", "addr", "add", f"{self.ip(1)}/26", "dev", self.root_link)
        run("ip", "link", "set", self.root_link, "up")
        run("ip", "route", "add", f"{self.ip(128)}/26", "via", self.ip(2))
        plan = [
            (gw, "up0", [f"{self.ip(2)}/26"], []),
            (gw, "atk0", [f"{self.ip(65)}/26", "192.88.99.65/24"], ["fd00:0:0:1::1/64"]),
            (gw, "srv0", [f"{self.ip(129)}/26"], ["fd00:0:0:2::1/64"]),
            (gw, "mgmt0", [f"{self.ip(193)}/26"], []),
            (
                atk,
                "eth0",
                [
                    f"{self.ip(66)}/26",
                    f"{self.ip(67)}/26",
                    f"{self.ip(72)}/26",
                    f"{PUBLIC_ATTACKER}/24",
                ],
                ["fd00:0:0:1::2/64"],
            ),
            (srv, "eth0", [f"{self.ip(130)}/26"], ["fd00:0:0:2::2/64"]),
            (mgmt, "eth0", [f"{self.ip(194)}/26"], []),
        ]
        for ns, device, v4, v6 in plan:
            for address in v4:
                run("ip", "-n", ns, "addr", "add", address, "dev", device)
            for address in v6:
                run("ip", "-n", ns, "-6", "addr", "add", address, "dev", device)
            run("ip", "-n", ns, "link", "set", device, "up")
        for ns, router, router6 in (
            (atk, self.ip(65), "fd00:0:0:1::1"),
            (srv, self.ip(129), "fd00:0:0:2::1"),
            (mgmt, self.ip(193), None),
        ):
            run("ip", "-n", ns, "route", "add", "default", "via", router)
            if router6:
                run("ip", "-n", ns, "-6", "route", "add", "default", "via", router6)
        run("ip", "-n", srv, "route", "add", f"{self.ip(0)}/26", "via", self.ip(129))
        for setting in ("net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"):
            run("ip", "netns", "exec", gw, "sysctl", "-q", "-w", setting)

    def _write_keys(self) -> None:
        self.client_key.write_private_key(str(self.client_key_file))
        asyncssh.generate_private_key("ssh-ed25519").write_private_key(str(self.other_key_file))
        for path in (self.client_key_file, self.other_key_file):
            path.chmod(0o600)
        authorized = self.directory / "authorized_keys"
        authorized.write_bytes(self.client_key.export_public_key())

    def _start_sshd(self, host: Host) -> None:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation
        key_file = host.directory / "host_ed25519"
        host.host_key.write_private_key(str(key_file))
        key_file.chmod(0o600)
        bin_dir = host.directory / "bin"
        bin_dir.mkdir()
        wrapper = bin_dir / "nft"
        wrapper.write_text(NFT_WRAPPER.format(slow=host.slow_file))
        wrapper.chmod(0o755)
        host.slow_file.write_text("")
        config = host.directory / "sshd_config"
        config.write_text(
            "\n".join(
                [
                    f"ListenAddress {host.address}:{host.port}",
                    f"HostKey {key_file}",
                    f"PidFile {host.directory / 'sshd.pid'}",
                    f"AuthorizedKeysFile {self.directory / 'authorized_keys'}",
                    "PermitRootLogin prohibit-password",
                    "PasswordAuthentication yes",
                    "KbdInteractiveAuthentication no",
                    "UsePAM no",
                    "StrictModes no",
                    "UseDNS no",
                    "MaxSessions 20",
                    "MaxStartups 100",
                    f"SetEnv PATH={bin_dir}:/usr/sbin:/usr/bin:/sbin:/bin SHLVL=1",
                    "LogLevel INFO",
                ]
            )
            + "\n"
        )
        self._spawn(
            host.namespace, host.directory / "sshd.log", SSHD, "-D", "-e", "-f", str(config)
        )

    def _start_monitor(self, host: Host) -> None:
        self._spawn(host.namespace, host.monitor_log, "stdbuf", "-oL", "/usr/sbin/nft", "monitor")
        host.await_monitor()

    def _start_listener(self) -> None:
        root = self.directory / "www"
        root.mkdir()
        self._spawn(
            self.protected.namespace,
            self.directory / "listener.log",
            sys.executable,
            "-m",
            "http.server",
            "--bind",
            "::",
            "--directory",
            str(root),
            str(self.listener_port),
        )

    def _spawn(self, namespace: str, log: Path, *command: str) -> None:
        output = log.open("ab")
        self.logs.append(output)
        self.processes.append(
            subprocess.Popen(
                ["ip", "netns", "exec", namespace, *command],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        )

    def stop(self) -> None:
        """Stop what the lab started and delete its namespaces (safe to call twice).
        Connections still open to a host (a worker's actuator) are ended first: sshd
        leaves them running when it stops."""
        for host in (self.gateway, self.protected):
            if (host.directory / "sshd.pid").exists():
                self.end_ssh_sessions(host)
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()
        for output in self.logs:
            output.close()
        self.logs.clear()
        for name in ("gw", "atk", "srv", "mgmt"):
            run("ip", "netns", "del", self.namespace(name), check=False)
        run("ip", "link", "del", self.root_link, check=False)

    # -- using -------------------------------------------------------------------------

    def known_hosts(self, path: Path, *hosts: Host, key: asyncssh.SSHKey | None = None) -> Path:
        """A known_hosts file recording each host's key (or `key` for all of them)."""
        lines = []
        for host in hosts:
            pattern = host.address if host.port == 22 else f"[{host.address}]:{host.port}"
            public = (key or host.host_key).export_public_key().decode().strip()
            lines.append(f"{pattern} {public}")
        path.write_text("\n".join(lines) + "\n")
        return path

    def options(self, host: Host, known_hosts: Path, **overrides: Any) -> dict[str, Any]:
        """Actuator options reaching `host` as root with the lab's client key."""
        return {
            "host": host.address,
            "port": host.port,
            "username": "root",
            "client_keys": [str(self.client_key_file)],
            "known_hosts": str(known_hosts),
            "management": [self.product_address, self.management_host],
            "connect_timeout_seconds": 5,
            "command_timeout_seconds": 5,
        } | overrides

    async def connects(self, source: str, target: str | None = None, *, within: float = 0.5) -> str:
        """Whether a TCP connection from `source` (an address of the attacker or the
        management host) reaches the protected host's listener: "connected", "dropped"
        (no answer `within` seconds) or "refused"."""
        target = target or (self.protected6 if ":" in source else self.protected.address)
        namespace = self.namespace("mgmt" if source == self.management_host else "atk")
        process = await asyncio.create_subprocess_exec(
            "ip",
            "netns",
            "exec",
            namespace,
            sys.executable,
            "-c",
            PROBE,
            source,
            target,
            str(self.listener_port),
            str(within),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        code = await process.wait()
        return {0: "connected", 2: "dropped"}.get(code, "refused")

    def ssh_sessions(self, host: Host) -> list[int]:
        """The pids of the sshd processes serving connections to `host`."""
        pid = int((host.directory / "sshd.pid").read_text())
        done = run("ps", "-o", "pid=", "--ppid", str(pid), check=False)
        return [int(line) for line in done.stdout.split()]

    def end_ssh_sessions(self, host: Host) -> int:
        """End every SSH connection to `host`, as a restart of its sshd would, and
        return how many there were once they are gone."""
        sessions = self.ssh_sessions(host)
        for pid in sessions:
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + READY_WITHIN
        while any(_running(pid) for pid in sessions):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the SSH sessions of {host.namespace} did not end")
            time.sleep(0.01)
        return len(sessions)


def _free_block() -> ipaddress.IPv4Network:
    """A /24 of 198.18.0.0/16 that no address or route of this namespace touches."""
    used = run("ip", "-j", "addr").stdout + run("ip", "-j", "route").stdout
    candidates = list(range(1, 255))
    random.shuffle(candidates)
    for third in candidates:
        if f"198.18.{third}." not in used:
            return ipaddress.IPv4Network(f"198.18.{third}.0/24")
    raise RuntimeError("no free /24 in 198.18.0.0/16 for a lab")


def _running(pid: int) -> bool:
    """Whether `pid` is alive (a zombie waiting for its parent is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _wait_for_port(address: str, port: int) -> None:
    deadline = time.monotonic() + READY_WITHIN
    while True:
        try:
            with socket.create_connection((address, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on {address}:{port}") from None
            time.sleep(0.05)


@contextmanager
def running_lab(directory: Path) -> Iterator[Lab]:
    """A started lab, stopped and deleted on the way out whatever happens."""
    lab = Lab(directory)
    lab.start()
    try:
        yield lab
    finally:
        lab.stop()


class Firewall:
    """One lab host's firewall as the actuator contract sees a product
    (:class:`soar.testing.contract.EmulatedProduct`), read with nft in its namespace —
    independently of the actuator's own parsing.

    An effect is a firewall transaction that touched the command's target: an element
    of the blocklist for `deny`, the isolation table for `contain`. `throttle` has no
    SSH counterpart; here it slows the host's next changes down instead.
    """

    def __init__(self, host: Host, table: str = "soar", secrets: list[str] | None = None) -> None:
        self.host = host
        self.table = table
        self.secrets = list(secrets or [])

    def effects(self, command: ContainmentCommand) -> int:
        return sum(
            1
            for transaction in self.host.transactions()
            if any(self._touches(line, command) for line in transaction)
        )

    def in_effect(self, command: ContainmentCommand) -> bool:
        if command.action is ContainmentVerb.CONTAIN:
            found = self.host.listing(f"chain inet {self.table}_isolation input") or []
            return any(item.get("chain", {}).get("policy") == "drop" for item in found)
        network = ipaddress.ip_network(command.target.value, strict=False)
        elements = self.host.set_elements(self.table, f"blocklist{network.version}")
        return _element_value(network) in [_value_of(e) for e in elements]

    def undo_out_of_band(self, command: ContainmentCommand) -> None:
        if command.action is ContainmentVerb.CONTAIN:
            self.host.nft("delete", "table", "inet", f"{self.table}_isolation")
            return
        network = ipaddress.ip_network(command.target.value, strict=False)
        self.host.nft_script(
            f"delete element inet {self.table} blocklist{network.version} {{ {_shown(network)} }}\n"
        )

    def throttle(self, times: int = 1, *, seconds: float = 1) -> None:
        self.host.slow_down(times, seconds)

    def _touches(self, line: str, command: ContainmentCommand) -> bool:
        if command.action is ContainmentVerb.CONTAIN:
            return f"table inet {self.table}_isolation" in line
        network = ipaddress.ip_network(command.target.value, strict=False)
        head = f"element inet {self.table} blocklist{network.version} {{"
        if not line.startswith(("add ", "delete ")) or head not in line:
            return False
        members = line.split(head, 1)[1].rstrip("} ").split(",")
        return any(member.split()[0] == _shown(network) for member in members if member.split())


def _shown(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str:
    return str(network.network_address) if network.num_addresses == 1 else str(network)


def _element_value(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> Any:
    """How `nft -j` lists an element holding exactly `network`."""
    if network.num_addresses == 1:
        return str(network.network_address)
    return {"prefix": {"addr": str(network.network_address), "len": network.prefixlen}}


def _value_of(element: Any) -> Any:
    return element["elem"]["val"] if isinstance(element, dict) and "elem" in element else element

"""SSH to one host and nft on it.

:class:`NftShell` holds one SSH connection per configured actuator, opened on first
use, reused for every command and opened again when it dropped. The host's key is
checked against the configured `known_hosts` file, never accepted blindly; no agent,
no `~/.ssh/config` and no default key files are consulted, so what the options say is
exactly what is used. Each command has its own timeout, and at most
:data:`MAX_SESSIONS` run at once (OpenSSH's default `MaxSessions` is 10).

:class:`Nft` runs nft through it: reads come back as parsed `nft -j` JSON, and every
change is one script fed to `nft -f -` on standard input — one atomic transaction,
never a shell string built from a target.

Errors are in plain words and redacted: an unknown host key is
:class:`HostKeyRejected`, a refused login :class:`CredentialsRejected` (both
permanent); an unreachable host, a dropped connection or a command past its timeout is
a :class:`TransientError`, which the containment activity retries.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
from dataclasses import dataclass
from typing import Any

import asyncssh

from integrations.core.redaction import Redactor
from integrations.nftables.options import NftablesOptions
from soar.integrations.errors import (
    AccessDenied,
    CredentialsRejected,
    IntegrationConfigError,
    PermanentError,
    RequestRejected,
    TransientError,
)

MAX_SESSIONS = 8
"""Commands run at once on the connection, under OpenSSH's default `MaxSessions`."""
KEEPALIVE_SECONDS = 30.0
MAX_DETAIL = 300
ABSENT = ("No such file or directory", "does not exist")
"""How nft says the table, set or element named does not exist."""

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class HostKeyRejected(PermanentError):
    """The host's key is not recorded in `known_hosts`, or differs from the one that is."""


class ConnectionDropped(TransientError):
    """The SSH connection failed under a command."""


@dataclass(frozen=True)
class Completed:
    """A command that ran to its end on the host."""

    exit_status: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.exit_status == 0

    def says_absent(self) -> bool:
        """Whether it failed because what it named does not exist."""
        return not self.ok and any(words in self.stderr for words in ABSENT)


@dataclass(frozen=True)
class Credentials:
    """What the connection authenticates with and checks the host against."""

    keys: list[asyncssh.SSHKey]
    known_hosts: asyncssh.SSHKnownHosts


def load_credentials(name: str, options: NftablesOptions) -> Credentials:
    """Read the key files and `known_hosts` now, so a missing or unreadable file stops
    the start (:class:`IntegrationConfigError` naming the option, never a key)."""
    prefix = f"actuators.{name}.options"
    keys: list[asyncssh.SSHKey] = []
    for path in options.client_keys:
        try:
            keys.append(asyncssh.read_private_key(str(path)))
        except OSError as error:
            raise IntegrationConfigError(
                f"{prefix}.client_keys: cannot read {path} ({error.strerror or error})"
            ) from None
        except (asyncssh.KeyImportError, ValueError):
            raise IntegrationConfigError(
                f"{prefix}.client_keys: {path} is not an unencrypted private key in a "
                "format OpenSSH writes"
            ) from None
    try:
        known_hosts = asyncssh.read_known_hosts(str(options.known_hosts))
    except OSError as error:
        raise IntegrationConfigError(
            f"{prefix}.known_hosts: cannot read {options.known_hosts} ({error.strerror or error})"
        ) from None
    except ValueError:
        raise IntegrationConfigError(
            f"{prefix}.known_hosts: {options.known_hosts} is not a known_hosts file"
        ) from None
    return Credentials(keys, known_hosts)


class NftShell:
    """Commands on the host over one reused SSH connection; see the module docstring."""

    def __init__(self, name: str, options: NftablesOptions) -> None:
        self.name = name
        self.options = options
        self.redact = Redactor(options.secrets())
        self._credentials = load_credentials(name, options)
        self._connection: asyncssh.SSHClientConnection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connecting: asyncio.Lock | None = None
        self._sessions: asyncio.Semaphore | None = None
        self._peer: tuple[asyncssh.SSHClientConnection, IPAddress | None] | None = None
        self.commands = 0
        """Commands run on the host, for benchmarks and tests."""
        self.connections = 0
        """SSH connections opened."""

    @property
    def where(self) -> str:
        return f"{self.options.host}:{self.options.port}"

    async def run(self, command: str, *, stdin: str | None = None) -> Completed:
        """Run `command` (a fixed string: nothing in it comes from a target) with
        `stdin`, and return how it ended. A reused connection found dropped is opened
        again, once (every script is safe to repeat)."""
        connection, fresh = await self._connect()
        try:
            return await self._attempt(connection, command, stdin)
        except ConnectionDropped:
            if fresh:
                raise
        connection, _ = await self._connect()
        return await self._attempt(connection, command, stdin)

    async def peer_address(self) -> IPAddress | None:
        """The address this product connects from, as the host sees it (the client
        address of `SSH_CONNECTION`), read once per connection; None if not said."""
        known = self._peer
        if known is None or known[0] is not self._connection or known[0].is_closed():
            said = await self.run("printenv SSH_CONNECTION")
            address = _client_address(said.stdout) if said.ok else None
            if self._connection is not None:
                self._peer = (self._connection, address)
            return address
        return known[1]

    async def aclose(self) -> None:
        """Close the connection (the next command opens a new one)."""
        if self._connection is not None:
            connection = self._connection
            self._forget(connection)
            connection.close()
            await connection.wait_closed()

    async def _attempt(
        self, connection: asyncssh.SSHClientConnection, command: str, stdin: str | None
    ) -> Completed:
        """One run on `connection`; a connection that fails under it is forgotten and
        :class:`ConnectionDropped` raised."""
        try:
            return await self._run_on(connection, command, stdin)
        except (asyncssh.ChannelOpenError, asyncssh.DisconnectError, OSError) as error:
            self._forget(connection)
            raise ConnectionDropped(
                self.name,
                self.redact(f"the SSH connection to {self.where} failed: {_reason(error)}"),
            ) from None

    async def _run_on(
        self, connection: asyncssh.SSHClientConnection, command: str, stdin: str | None
    ) -> Completed:
        timeout = self.options.command_timeout_seconds
        assert self._sessions is not None
        async with self._sessions:
            self.commands += 1
            try:
                async with asyncio.timeout(timeout):
                    async with await connection.create_process(
                        command, input=stdin, encoding="utf-8", errors="replace"
                    ) as process:
                        done = await process.wait()
            except TimeoutError:
                raise TransientError(
                    self.name,
                    f"`{command}` did not finish within {timeout:g} s on {self.where}; it "
                    "may still take effect, and the retry reads the firewall before acting",
                ) from None
        status = done.exit_status if done.exit_status is not None else -1
        return Completed(status, _text(done.stdout), self.redact(_text(done.stderr)))

    async def _connect(self) -> tuple[asyncssh.SSHClientConnection, bool]:
        """The open connection, or a new one; True when it was just opened."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            # A connection belongs to the event loop that opened it.
            self._connection, self._loop = None, loop
            self._connecting, self._sessions = asyncio.Lock(), asyncio.Semaphore(MAX_SESSIONS)
        assert self._connecting is not None
        async with self._connecting:
            if self._connection is not None and not self._connection.is_closed():
                return self._connection, False
            self._connection = await self._open()
            self.connections += 1
            return self._connection, True

    async def _open(self) -> asyncssh.SSHClientConnection:
        options, credentials = self.options, self._credentials
        password = options.password.get_secret_value() if options.password else None
        try:
            return await asyncssh.connect(
                options.host,
                options.port,
                username=options.username,
                client_keys=credentials.keys or None,
                password=password,
                known_hosts=credentials.known_hosts,
                agent_path=None,
                config=None,
                gss_host=None,
                connect_timeout=options.connect_timeout_seconds,
                keepalive_interval=KEEPALIVE_SECONDS,
            )
        except asyncssh.HostKeyNotVerifiable:
            raise HostKeyRejected(
                self.name,
                f"the host key of {self.where} is not trusted: {options.known_hosts} has no "
                "key for it or a different one; refusing to connect. Check the host's "
                f"fingerprint (ssh-keyscan -p {options.port} {options.host} | ssh-keygen -lf -) "
                "and record its key in known_hosts",
            ) from None
        except asyncssh.PermissionDenied:
            raise CredentialsRejected(
                self.name,
                f"{self.where} refused the login of {options.username!r} with the configured "
                f"{'key' if credentials.keys else 'password'}",
            ) from None
        except (TimeoutError, OSError, asyncssh.Error) as error:
            raise TransientError(
                self.name, self.redact(f"cannot reach {self.where} over SSH: {_reason(error)}")
            ) from None

    def _forget(self, connection: asyncssh.SSHClientConnection) -> None:
        if self._connection is connection:
            self._connection = None


class Nft:
    """nft on the host: JSON reads and atomic scripts, with its failures in words."""

    def __init__(self, shell: NftShell) -> None:
        self.shell = shell

    async def version(self) -> str:
        done = await self.shell.run("nft --version")
        self._raise_for(done, "nft --version")
        return done.stdout.strip()

    async def read(self, what: str) -> list[dict[str, Any]] | None:
        """`nft -j list <what>` as its list of objects (`table`, `set`, `chain`, `rule`
        ...), or None when it does not exist. `what` is built from validated names."""
        done = await self.shell.run(f"nft -j list {what}")
        if done.says_absent():
            return None
        self._raise_for(done, f"nft list {what}")
        try:
            objects = json.loads(done.stdout)["nftables"]
        except (ValueError, KeyError, TypeError):
            raise RequestRejected(
                self.shell.name, f"nft list {what} did not answer JSON nft -j writes"
            ) from None
        return [item for item in objects if isinstance(item, dict)]

    async def apply(self, script: str) -> Completed:
        """Run `script` as one transaction (`nft -f -`): all of it or none. A failure
        that only says something named is absent is returned, for the caller to judge;
        any other is raised."""
        done = await self.shell.run("nft -f -", stdin=script)
        if not done.says_absent():
            self._raise_for(done, "nft -f")
        return done

    def _raise_for(self, done: Completed, what: str) -> None:
        if done.ok:
            return
        words = _first_error(done.stderr)
        name = self.shell.name
        if done.exit_status == 127:
            raise RequestRejected(name, f"nft is not installed on {self.shell.where}")
        if "Operation not permitted" in done.stderr or "Permission denied" in done.stderr:
            raise AccessDenied(
                name,
                f"{self.shell.options.username!r} may not change the firewall of "
                f"{self.shell.where} ({words}); nft needs root or CAP_NET_ADMIN",
            )
        raise RequestRejected(name, f"{what} failed on {self.shell.where}: {words}")


def _first_error(stderr: str) -> str:
    """nft's own words: its first `Error:` line, or the start of what it wrote."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error:")]
    text = (errors or lines or ["no error message"])[0]
    return text[:MAX_DETAIL]


def _client_address(ssh_connection: str) -> IPAddress | None:
    """The client address of an `SSH_CONNECTION` value ("client port server port")."""
    parts = ssh_connection.split()
    try:
        return ipaddress.ip_address(parts[0]) if len(parts) == 4 else None
    except ValueError:
        return None


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _reason(error: BaseException) -> str:
    reason = getattr(error, "reason", None) or str(error) or type(error).__name__
    return str(reason)[:MAX_DETAIL]

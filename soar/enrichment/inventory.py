"""The asset and identity inventory: who owns a host, how critical it is, who a user is.

Triage reads it to weigh an alert (a critical host, a VIP user) and the guardrails read
it to refuse isolating a host tagged `domain-controller`. It is loaded once from a file
named by the `inventory_file` setting, in one of two formats chosen by the suffix.

YAML (`.yaml`, `.yml`)::

    hosts:
      fin-laptop-07: {owner: j.doe, criticality: critical, tags: [finance]}
      dc-01.corp.example: {criticality: critical, tags: [domain-controller]}
    users:
      j.doe: {team: finance, manager: a.smith, vip: true}

CSV (`.csv`): one file with a header row and a `kind` column saying what each row is —
one file is simpler to configure and to keep in step than two::

    kind,name,owner,criticality,tags,team,manager,vip
    host,fin-laptop-07,j.doe,critical,finance;laptop,,,
    user,j.doe,,,,finance,a.smith,yes

`kind` is `host` or `user`; tags are separated by `;`; an empty cell means "not given";
a host row may fill only host columns and a user row only user columns. In both formats
a host's criticality defaults to `medium`, unknown keys or columns are errors (a typo in
`criticality` must not quietly leave a critical host at the default), tags are stored
lower-case, and a name listed twice (ignoring case) is an error. Every error names the
file and the line.

Lookups ignore case and match host and account names as :mod:`soar.enrichment.names`
describes: `web-02` finds `web-02.corp.example` and the other way round.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from soar.enrichment.models import AssetContext, Criticality, IdentityContext
from soar.enrichment.names import (
    bare_account,
    is_bare_account,
    is_bare_host,
    normalise_account,
    normalise_host,
    short_host,
)

Kind = Literal["host", "user"]
HOST_COLUMNS = ("owner", "criticality", "tags")
USER_COLUMNS = ("team", "manager", "vip")
CSV_COLUMNS = frozenset({"kind", "name", *HOST_COLUMNS, *USER_COLUMNS})
TAG_SEPARATOR = ";"


class InventoryError(ValueError):
    """A malformed inventory file; the message names the file and, when known, the line."""

    def __init__(self, path: Path, line: int | None, message: str) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line


class Inventory:
    """Hosts and users, looked up case-insensitively by full or short name."""

    def __init__(
        self, hosts: Iterable[AssetContext] = (), users: Iterable[IdentityContext] = ()
    ) -> None:
        self._hosts: dict[str, AssetContext] = {}
        self._hosts_by_short: dict[str, list[AssetContext]] = {}
        for asset in hosts:
            key = normalise_host(asset.hostname)
            if key in self._hosts:
                raise ValueError(f"host {asset.hostname!r} is listed twice")
            self._hosts[key] = asset
            self._hosts_by_short.setdefault(short_host(key), []).append(asset)
        self._users: dict[str, IdentityContext] = {}
        self._users_by_bare: dict[str, list[IdentityContext]] = {}
        for identity in users:
            key = normalise_account(identity.user)
            if key in self._users:
                raise ValueError(f"user {identity.user!r} is listed twice")
            self._users[key] = identity
            self._users_by_bare.setdefault(bare_account(key), []).append(identity)

    def __len__(self) -> int:
        return len(self._hosts) + len(self._users)

    def hosts(self, name: str) -> list[AssetContext]:
        """Every entry the name can mean: the exact one, else those matching by short name."""
        full = normalise_host(name)
        if full in self._hosts:
            return [self._hosts[full]]
        if is_bare_host(full):
            return list(self._hosts_by_short.get(full, []))
        bare = self._hosts.get(short_host(full))
        return [bare] if bare is not None else []

    def host(self, name: str) -> AssetContext | None:
        """The entry for a host; of several candidates, the most critical one."""
        candidates = self.hosts(name)
        return max(candidates, key=lambda asset: asset.criticality.rank, default=None)

    def users(self, name: str) -> list[IdentityContext]:
        """Every entry the account can mean: the exact one, else those matching without domain."""
        full = normalise_account(name)
        if full in self._users:
            return [self._users[full]]
        if is_bare_account(full):
            return list(self._users_by_bare.get(full, []))
        bare = self._users.get(bare_account(full))
        return [bare] if bare is not None else []

    def user(self, name: str) -> IdentityContext | None:
        """The entry for a user; of several candidates, a VIP first."""
        candidates = self.users(name)
        return max(candidates, key=lambda identity: identity.vip, default=None)


class _HostEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    owner: str | None = None
    criticality: Criticality = Criticality.MEDIUM
    tags: list[str] = Field(default_factory=list)


class _UserEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    team: str | None = None
    manager: str | None = None
    vip: bool = False


@dataclass(frozen=True)
class _Row:
    kind: Kind
    name: str
    fields: dict[str, Any]
    line: int


def load_inventory(path: Path) -> Inventory:
    """Read an inventory file (YAML or CSV, by suffix). Raises :class:`InventoryError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InventoryError(path, None, f"cannot read the inventory: {error}") from error
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        rows = _yaml_rows(path, text)
    elif suffix == ".csv":
        rows = _csv_rows(path, text)
    else:
        raise InventoryError(path, None, "an inventory file must end in .yaml, .yml or .csv")
    return _build(path, rows)


def _build(path: Path, rows: Iterable[_Row]) -> Inventory:
    hosts: list[AssetContext] = []
    users: list[IdentityContext] = []
    seen: dict[tuple[Kind, str], int] = {}
    for row in rows:
        if not row.name.strip():
            raise InventoryError(path, row.line, f"a {row.kind} without a name")
        normalise = normalise_host if row.kind == "host" else normalise_account
        key = (row.kind, normalise(row.name))
        if key in seen:
            raise InventoryError(
                path, row.line, f"{row.kind} {row.name!r} is already listed on line {seen[key]}"
            )
        seen[key] = row.line
        try:
            if row.kind == "host":
                host = _HostEntry.model_validate(row.fields)
                tags = [tag.strip().lower() for tag in host.tags if tag.strip()]
                hosts.append(
                    AssetContext(
                        hostname=row.name.strip(),
                        owner=host.owner,
                        criticality=host.criticality,
                        tags=tags,
                    )
                )
            else:
                user = _UserEntry.model_validate(row.fields)
                users.append(IdentityContext(user=row.name.strip(), **user.model_dump()))
        except ValidationError as error:
            raise InventoryError(
                path, row.line, f"{row.kind} {row.name!r}: {_explain(error)}"
            ) from error
    return Inventory(hosts, users)


def _explain(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in detail['loc']) or 'entry'}: {detail['msg']}"
        for detail in error.errors(include_url=False)
    )


def _yaml_rows(path: Path, text: str) -> Iterator[_Row]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else None
        raise InventoryError(path, line, f"not valid YAML: {error.problem}") from error
    except yaml.YAMLError as error:
        raise InventoryError(path, None, f"not valid YAML: {error}") from error
    if root is None:
        return
    if not isinstance(root, yaml.MappingNode):
        raise InventoryError(path, _line(root), "expected a mapping with `hosts` and `users`")
    sections = {"hosts": "host", "users": "user"}
    for key_node, section_node in root.value:
        section = _construct(key_node)
        if not isinstance(section, str) or section not in sections:
            raise InventoryError(
                path, _line(key_node), f"unknown section {section!r}; expected hosts or users"
            )
        kind: Kind = "host" if section == "hosts" else "user"
        if _construct(section_node) is None:
            continue
        if not isinstance(section_node, yaml.MappingNode):
            raise InventoryError(path, _line(section_node), f"`{section}` must be a mapping")
        for name_node, entry_node in section_node.value:
            name = _construct(name_node)
            entry = _construct(entry_node)
            if not isinstance(name, str | int) or isinstance(name, bool):
                raise InventoryError(path, _line(name_node), f"a {kind} name must be text")
            if entry is None:
                entry = {}
            if not isinstance(entry, dict):
                raise InventoryError(
                    path, _line(entry_node), f"{kind} {name!r} must be a mapping of fields"
                )
            yield _Row(kind, str(name), entry, _line(name_node))


def _construct(node: yaml.Node) -> Any:
    return yaml.constructor.SafeConstructor().construct_document(node)


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _csv_rows(path: Path, text: str) -> Iterator[_Row]:
    reader = csv.DictReader(text.splitlines(keepends=True), strict=True)
    try:
        if reader.fieldnames is None:
            return
        header = [column.strip().lower() for column in reader.fieldnames or []]
        unknown = [column for column in header if column not in CSV_COLUMNS]
        if unknown:
            raise InventoryError(path, 1, f"unknown column {unknown[0]!r}")
        if "kind" not in header or "name" not in header:
            raise InventoryError(path, 1, "the header must have `kind` and `name` columns")
        reader.fieldnames = header
        for record in reader:
            yield _csv_row(path, record, reader.line_num)
    except csv.Error as error:
        line = reader.reader.line_num  # the DictReader's own count stops at the last good row
        raise InventoryError(path, line, f"not valid CSV: {error}") from error


def _csv_row(path: Path, record: dict[Any, Any], line: int) -> _Row:
    if record.get(None):
        raise InventoryError(path, line, "more fields than the header has")
    cells = {key: (value or "").strip() for key, value in record.items() if key is not None}
    kind = cells.pop("kind").lower()
    if kind not in ("host", "user"):
        raise InventoryError(path, line, f"kind must be host or user, not {kind!r}")
    name = cells.pop("name")
    fields: dict[str, Any] = {key: value for key, value in cells.items() if value}
    if "tags" in fields:
        fields["tags"] = fields["tags"].split(TAG_SEPARATOR)
    return _Row("host" if kind == "host" else "user", name, fields, line)

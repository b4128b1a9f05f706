"""Loading the inventory from YAML and CSV, looking names up, and refusing bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from soar.enrichment.inventory import Inventory, InventoryError, load_inventory
from soar.enrichment.models import AssetContext, Criticality, IdentityContext

YAML_INVENTORY = """\
hosts:
  fin-laptop-07:
    owner: j.doe
    criticality: critical
    tags: [Finance, laptop]
  dc-01.corp.example: {criticality: critical, tags: [domain-controller]}
  web-02.corp.example: {owner: web-team}
  printer-3:
users:
  j.doe: {team: finance, manager: a.smith, vip: true}
  svc-backup: {team: it}
"""

CSV_INVENTORY = """\
kind,name,owner,criticality,tags,team,manager,vip
host,fin-laptop-07,j.doe,critical,Finance;laptop,,,
host,dc-01.corp.example,,critical,domain-controller,,,
host,web-02.corp.example,web-team,,,,,
user,j.doe,,,,finance,a.smith,yes
user,svc-backup,,,,it,,
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def host(inventory: Inventory, name: str) -> AssetContext:
    found = inventory.host(name)
    assert found is not None, name
    return found


def user(inventory: Inventory, name: str) -> IdentityContext:
    found = inventory.user(name)
    assert found is not None, name
    return found


@pytest.mark.parametrize(
    ("name", "text"), [("inv.yaml", YAML_INVENTORY), ("inv.csv", CSV_INVENTORY)]
)
def test_both_formats_load_the_same_inventory(tmp_path: Path, name: str, text: str) -> None:
    inventory = load_inventory(write(tmp_path, name, text))

    laptop = host(inventory, "fin-laptop-07")
    assert laptop.owner == "j.doe"
    assert laptop.criticality is Criticality.CRITICAL
    assert laptop.tags == ["finance", "laptop"]
    web = host(inventory, "web-02")
    assert web.criticality is Criticality.MEDIUM
    assert host(inventory, "dc-01").tags == ["domain-controller"]
    doe = user(inventory, "j.doe")
    assert (doe.team, doe.manager, doe.vip) == ("finance", "a.smith", True)
    assert user(inventory, "svc-backup").vip is False


def test_lookups_ignore_case_and_match_short_and_full_host_names(tmp_path: Path) -> None:
    inventory = load_inventory(write(tmp_path, "inv.yaml", YAML_INVENTORY))

    assert host(inventory, "FIN-LAPTOP-07.corp.example.").hostname == "fin-laptop-07"
    assert host(inventory, "WEB-02").hostname == "web-02.corp.example"
    assert inventory.host("web-02.dmz.example") is None
    assert inventory.host("web-03") is None
    assert user(inventory, "J.Doe").vip is True
    assert user(inventory, "CORP\\j.doe").user == "j.doe"
    assert user(inventory, "j.doe@corp.example").user == "j.doe"
    assert inventory.user("nobody") is None


def test_a_short_name_shared_by_two_hosts_finds_both_and_prefers_the_critical(
    tmp_path: Path,
) -> None:
    inventory = load_inventory(
        write(
            tmp_path,
            "inv.yaml",
            "hosts:\n"
            "  app-01.dmz.example: {criticality: low}\n"
            "  app-01.corp.example: {criticality: critical}\n",
        )
    )

    assert len(inventory.hosts("app-01")) == 2
    assert host(inventory, "app-01").hostname == "app-01.corp.example"


@pytest.mark.parametrize("text", ["", "hosts:\nusers:\n"])
def test_an_empty_yaml_file_is_an_empty_inventory(tmp_path: Path, text: str) -> None:
    assert len(load_inventory(write(tmp_path, "inv.yml", text))) == 0


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("hosts:\n  web-01: {criticality: huge}\n", 2, "host 'web-01': criticality"),
        ("hosts:\n  web-01:\n    criticallity: high\n", 2, "criticallity"),
        ("users:\n  a: {vip: true}\n  b: {vip: perhaps}\n", 3, "user 'b': vip"),
        ("hosts:\n  web-01: {}\n  WEB-01: {}\n", 3, "already listed on line 2"),
        ("hosts: [web-01]\n", 1, "`hosts` must be a mapping"),
        ("servers:\n  web-01: {}\n", 1, "unknown section 'servers'"),
        ("hosts:\n  web-01: {owner: [unclosed\n", 3, "not valid YAML"),
        ("hosts:\n  web-01: just-a-string\n", 2, "must be a mapping of fields"),
        ("- a\n- b\n", 1, "expected a mapping"),
    ],
)
def test_malformed_yaml_names_the_file_and_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = write(tmp_path, "inv.yaml", text)

    with pytest.raises(InventoryError) as raised:
        load_inventory(path)

    assert raised.value.path == path
    assert raised.value.line == line
    assert str(raised.value).startswith(f"{path}:{line}: ")
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("kind,name,criticality\nhost,web-01,huge\n", 2, "host 'web-01': criticality"),
        ("kind,name,crit\nhost,web-01,high\n", 1, "unknown column 'crit'"),
        ("name,owner\nweb-01,x\n", 1, "`kind` and `name`"),
        ("kind,name\nhost,web-01\nrouter,r-1\n", 3, "kind must be host or user"),
        ("kind,name,team\nhost,web-01,it\n", 2, "team: Extra inputs are not permitted"),
        ("kind,name,vip\nuser,a,no\nuser,b,maybe\n", 3, "user 'b': vip"),
        ("kind,name\nhost,web-01,extra\n", 2, "more fields than the header"),
        ("kind,name\nhost,\n", 2, "a host without a name"),
        ('kind,name\nhost,"web-01\n', 2, "not valid CSV"),
    ],
)
def test_malformed_csv_names_the_file_and_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = write(tmp_path, "inv.csv", text)

    with pytest.raises(InventoryError) as raised:
        load_inventory(path)

    assert raised.value.line == line
    assert str(raised.value).startswith(f"{path}:{line}: ")
    assert message in str(raised.value)


def test_an_unknown_suffix_or_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match=r"\.yaml, \.yml or \.csv"):
        load_inventory(write(tmp_path, "inv.json", "{}"))
    with pytest.raises(InventoryError, match="cannot read"):
        load_inventory(tmp_path / "missing.yaml")

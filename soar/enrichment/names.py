"""Matching host and account names the way people write them.

The same host appears as `WEB-02`, `web-02.corp.example` and `web-02.corp.example.`;
the same account as `j.doe`, `CORP\\j.doe` and `j.doe@corp.example`. Names compare
case-insensitively, and a bare name matches a qualified one with the same first part.
Two names that are both qualified must agree in full: `web-02.corp.example` is not
`web-02.dmz.example`.
"""

from __future__ import annotations

import ipaddress
from fnmatch import fnmatchcase

WILDCARDS = frozenset("*?[")


def normalise_host(name: str) -> str:
    """Lower-case, without surrounding blanks or the trailing root dot."""
    return name.strip().lower().rstrip(".")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def short_host(name: str) -> str:
    """The first label of a host name (`web-02` for `web-02.corp.example`); an IP as is."""
    full = normalise_host(name)
    return full if _is_ip(full) else full.split(".", 1)[0]


def is_bare_host(name: str) -> bool:
    """Whether a normalised name has a single label (and is not an IP address)."""
    return "." not in name and ":" not in name


def normalise_account(name: str) -> str:
    """Lower-case, without surrounding blanks."""
    return name.strip().lower()


def bare_account(name: str) -> str:
    """The account without its domain: `j.doe` for `CORP\\j.doe` and `j.doe@corp.example`."""
    account = normalise_account(name)
    account = account.rsplit("\\", 1)[-1]
    return account.split("@", 1)[0]


def is_bare_account(name: str) -> bool:
    """Whether a normalised account name carries no domain."""
    return bare_account(name) == name


def host_matches(name: str, pattern: str) -> bool:
    """Whether a host name matches a name or an fnmatch pattern, case-insensitively.

    A pattern is tried against the full and the short name, so `dc-*` protects
    `DC-01.corp.example`; a literal qualified name also protects its bare form.
    """
    full, short = normalise_host(name), short_host(name)
    pattern = normalise_host(pattern)
    if fnmatchcase(full, pattern) or fnmatchcase(short, pattern):
        return True
    literal = not WILDCARDS.intersection(pattern)
    return literal and is_bare_host(full) and short_host(pattern) == full


def account_matches(name: str, pattern: str) -> bool:
    """Whether an account matches a name or an fnmatch pattern, with or without its domain."""
    pattern = normalise_account(pattern)
    return fnmatchcase(normalise_account(name), pattern) or fnmatchcase(bare_account(name), pattern)

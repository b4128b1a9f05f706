"""Observable extraction: turn alert fields and free text into `{type, value, role}` entities.

Parsers call the typed helpers (:func:`ip_observable`, :func:`host_observable`, ...) for
structured fields, whose meaning the parser knows, and :func:`text_observables` for
titles, messages and logs, whose indicators must be found by pattern. Every helper
validates before it reports: an analyst who blocks "an IP" must get an IP, so
`999.1.1.1` is no `ip` and `invoice.pdf.exe` is no `domain`.

Input is hostile by assumption (attackers control log lines), so the work is bounded:
each text is scanned up to :data:`MAX_TEXT_CHARS`, an alert keeps at most
:data:`MAX_OBSERVABLES`, and every pattern is linear (no nested, overlapping repeats).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from soar.alerts.models import Observable, ObservableRole, ObservableType, dedupe_observables

MAX_TEXT_CHARS = 64 * 1024
MAX_OBSERVABLES = 200
MAX_URL_CHARS = 4096
MAX_NAME_CHARS = 256

Role = ObservableRole

URL_SCHEMES = frozenset({"http", "https", "ftp", "sftp", "ldap", "ldaps", "rmi", "ws", "wss"})

# Never a TLD in practice, always a file name: `invoice.pdf.exe`, `run.ps1`, `app.log`.
FILE_EXTENSIONS = frozenset(
    {
        "exe", "dll", "sys", "pdf", "zip", "rar", "7z", "gz", "tgz", "bz2", "xz", "tar",
        "txt", "log", "csv", "json", "xml", "yml", "yaml", "ini", "cfg", "conf", "tmp",
        "js", "vbs", "ps1", "psm1", "bat", "cmd", "msi", "lnk", "hta", "scr", "jar",
        "doc", "docx", "docm", "xls", "xlsx", "xlsm", "ppt", "pptx", "rtf", "odt",
        "sh", "py", "pyc", "rb", "pl", "php", "asp", "aspx", "jsp", "cgi",
        "html", "htm", "css", "jpg", "jpeg", "png", "gif", "bmp", "svg", "ico", "tif",
        "mp3", "mp4", "avi", "mov", "wav", "iso", "img", "dmg", "apk", "bin", "dat",
        "db", "sql", "bak", "old", "lock", "pid", "so", "dylib", "class", "java", "go",
        "rs", "cpp", "hpp", "cs", "md", "yara", "evtx", "pcap", "eml", "msg",
    }
)  # fmt: skip

PLACEHOLDERS = frozenset({"", "-", "--", "?", "n/a", "na", "none", "null", "(null)", "unknown"})

_REFANG = re.compile(
    r"(?P<scheme>\bhxxp(?P<s>s?))"
    r"|(?P<dot>\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\{dot\})"
    r"|(?P<colon>\[:\])"
    r"|(?P<at>\[@\]|\(@\)|\[at\]|\(at\)|\{at\})",
    re.IGNORECASE,
)
_URL = re.compile(
    r"\b(?:" + "|".join(sorted(URL_SCHEMES, key=len, reverse=True)) + r")://"
    r"[^\s<>\"'`{}|\\^]{1," + str(MAX_URL_CHARS) + "}",
    re.IGNORECASE,
)
_EMAIL = re.compile(
    r"(?<![\w.%+-])[\w.%+-]{1,64}@(?:[a-z0-9-]{1,63}\.){1,10}[a-z][a-z0-9-]{1,62}(?![\w-])",
    re.IGNORECASE,
)
_IPV4 = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?!\w|\.\d)")
_IPV6 = re.compile(r"(?<![\w:.])[0-9a-f:]{2,39}(?![\w:]|\.\d)", re.IGNORECASE)
_HASH = re.compile(r"(?<!\w)[0-9a-f]{32,64}(?!\w)", re.IGNORECASE)
_DOMAIN = re.compile(
    r"(?<![\w.@\\/-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.){1,10}"
    r"[a-z][a-z0-9-]{1,62}(?![\w-]|\.\w)",
    re.IGNORECASE,
)
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_TLD = re.compile(r"[a-z]{2,63}|xn--[a-z0-9-]{1,59}")
_HEX = re.compile(r"[0-9a-f]+")
_EMAIL_FULL = re.compile(r"[\w.%+-]{1,64}@([^@\s]{1,253})")
_SPACE = re.compile(r"\s")
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_TRAILING = ".,;:!?'\""
_CLOSERS = {")": "(", "]": "["}


def refang(text: str) -> str:
    """Undo common defanging: `hxxp://`, `[.]`, `(.)`, `[dot]`, `[:]`, `[@]`, `[at]`."""

    def restore(match: re.Match[str]) -> str:
        if match.group("scheme"):
            return "http" + match.group("s").lower()
        if match.group("dot"):
            return "."
        if match.group("colon"):
            return ":"
        return "@"

    return _REFANG.sub(restore, text)


def valid_unicode(text: str) -> str:
    """`text` with lone surrogates (valid in JSON `\\ud800` escapes, invalid in UTF-8) as `?`.

    A lone surrogate in a model field would make every later JSON/UTF-8 encoding of
    the alert fail, so none may reach the model.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def _clean(value: Any, limit: int = MAX_NAME_CHARS) -> str | None:
    """A stripped string that is not a placeholder and not too long, else None."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    try:
        text = valid_unicode(str(value).strip())
    except ValueError:
        return None
    if text.lower() in PLACEHOLDERS or len(text) > limit:
        return None
    return text


def _ip(text: str) -> str | None:
    """The canonical form of an IP address, or None; the unspecified address is no IP."""
    candidate = text.strip()
    if candidate.startswith("[") and candidate.endswith("]"):
        candidate = candidate[1:-1]
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        return None
    if address.is_unspecified:
        return None
    return str(address)


def _domain(text: str) -> str | None:
    """A lower-case registrable-looking domain (2+ labels, alphabetic TLD), or None."""
    name = text.strip().rstrip(".").lower()
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 2:
        return None
    if not all(_LABEL.fullmatch(label) for label in labels):
        return None
    tld = labels[-1]
    if not _TLD.fullmatch(tld) or tld in FILE_EXTENSIONS:
        return None
    return name


def _hash(text: str) -> str | None:
    """A lower-case md5, sha1 or sha256 hex digest (by length), or None."""
    digest = text.strip().lower()
    if len(digest) not in (32, 40, 64) or not _HEX.fullmatch(digest):
        return None
    if digest.isdigit() or len(set(digest)) == 1:
        return None
    return digest


def _url(text: str) -> str | None:
    """A refanged absolute URL with a known scheme and a host, or None."""
    url = refang(text.strip())
    if len(url) > MAX_URL_CHARS or _SPACE.search(url):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in URL_SCHEMES or not host:
        return None
    return url


def _email(text: str) -> str | None:
    """A lower-case email address whose domain validates, or None."""
    address = refang(text.strip()).lower()
    match = _EMAIL_FULL.fullmatch(address)
    if not match or _domain(match.group(1)) is None:
        return None
    return address


def ip_observable(value: Any, role: ObservableRole = Role.RELATED) -> Observable | None:
    """An `ip` observable if `value` is a valid IPv4/IPv6 address (refanged), else None."""
    text = _clean(value)
    address = _ip(refang(text)) if text else None
    return Observable(type=ObservableType.IP, value=address, role=role) if address else None


def domain_observable(value: Any, role: ObservableRole = Role.RELATED) -> Observable | None:
    """A `domain` observable if `value` is a plausible domain name (refanged), else None."""
    text = _clean(value)
    name = _domain(refang(text)) if text else None
    return Observable(type=ObservableType.DOMAIN, value=name, role=role) if name else None


def hash_observable(value: Any, role: ObservableRole = Role.RELATED) -> Observable | None:
    """A `hash` observable for an md5, sha1 or sha256 hex digest, else None."""
    text = _clean(value)
    digest = _hash(text) if text else None
    return Observable(type=ObservableType.HASH, value=digest, role=role) if digest else None


def url_observable(value: Any, role: ObservableRole = Role.RELATED) -> Observable | None:
    """A `url` observable for an absolute URL (refanged first), else None."""
    text = _clean(value, MAX_URL_CHARS)
    url = _url(text) if text else None
    return Observable(type=ObservableType.URL, value=url, role=role) if url else None


def url_observables(value: Any, role: ObservableRole = Role.RELATED) -> list[Observable]:
    """The URL and its host (an `ip` or a `domain`, role related): analysts block hosts."""
    url = url_observable(value, role)
    if url is None:
        return []
    host = urlsplit(url.value).hostname or ""
    found = [url, ip_observable(host) or domain_observable(host)]
    return [observable for observable in found if observable]


def email_observable(value: Any, role: ObservableRole = Role.RELATED) -> Observable | None:
    """An `email` observable if `value` is an address with a valid domain, else None."""
    text = _clean(value)
    address = _email(text) if text else None
    return Observable(type=ObservableType.EMAIL, value=address, role=role) if address else None


def user_observable(value: Any, role: ObservableRole = Role.ACTOR) -> Observable | None:
    """A `user` observable for an account name, kept as sent (`CORP\\svc`, a UPN, ...)."""
    text = _clean(value)
    if not text or any(ch < " " for ch in text):
        return None
    return Observable(type=ObservableType.USER, value=text, role=role)


def email_or_user(value: Any, role: ObservableRole = Role.ACTOR) -> Observable | None:
    """An `email` observable when the account looks like an address, else a `user`."""
    return email_observable(value, role) or user_observable(value, role)


def host_observable(value: Any, role: ObservableRole = Role.HOST) -> Observable | None:
    """A host field: an `ip` when it holds an address, else a `hostname` (kept as sent)."""
    text = _clean(value)
    if not text:
        return None
    address = ip_observable(text, role)
    if address:
        return address
    if _SPACE.search(text) or "/" in text or "\\" in text:
        return None
    return Observable(type=ObservableType.HOSTNAME, value=text, role=role)


def strip_port(value: str) -> str:
    """`host:port` -> `host`, `[v6]:port` -> `v6`; a bare IPv6 address is left alone."""
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    if value.count(":") == 1:
        return value.split(":", 1)[0]
    return value


def _strip_trailing(url: str) -> str:
    """Drop sentence punctuation and unbalanced closing brackets after a URL in prose."""
    surplus = {closer: url.count(closer) - url.count(opener) for closer, opener in _CLOSERS.items()}
    end = len(url)
    while end:
        last = url[end - 1]
        if last in _CLOSERS and surplus[last] > 0:
            surplus[last] -= 1
        elif last not in _TRAILING:
            break
        end -= 1
    return url[:end]


class _Found:
    """Ordered, de-duplicated findings that stop growing at MAX_OBSERVABLES."""

    def __init__(self) -> None:
        self.items: dict[tuple[ObservableType, str], Observable] = {}

    @property
    def full(self) -> bool:
        """Whether MAX_OBSERVABLES have been found."""
        return len(self.items) >= MAX_OBSERVABLES

    def add(self, *observables: Observable | None) -> None:
        for observable in observables:
            if observable and not self.full:
                self.items.setdefault((observable.type, observable.value), observable)


def _scan(text: str, role: ObservableRole, found: _Found) -> None:
    """Add the indicators of one refanged, capped text to `found`, stopping when full.

    URLs and emails are blanked out before the domain pass so that a URL path such as
    `/u/john.smith` or an address's domain is not reported as a domain of its own; a
    URL's host is reported through the URL instead.
    """
    for match in _URL.finditer(text):
        found.add(*url_observables(_strip_trailing(match.group()), role))
        if found.full:
            return
    blanked = _URL.sub(" ", text)
    for match in _EMAIL.finditer(blanked):
        found.add(email_observable(match.group(), role))
    blanked = _EMAIL.sub(" ", blanked)
    for match in _IPV4.finditer(text):
        found.add(ip_observable(match.group(), role))
    for match in _IPV6.finditer(text):
        candidate = match.group()
        if candidate.count(":") >= 2 and any(ch.isdigit() for ch in candidate):
            found.add(ip_observable(candidate, role))
    for match in _DOMAIN.finditer(blanked):
        found.add(domain_observable(match.group(), role))
        if found.full:
            return
    for match in _HASH.finditer(text):
        found.add(hash_observable(match.group(), role))


def text_observables(*texts: Any, role: ObservableRole = Role.RELATED) -> list[Observable]:
    """Indicators found in free text: URLs (and their hosts), emails, IPs, domains, hashes.

    Defanged forms are refanged first. Non-string arguments are ignored; each text is
    scanned up to :data:`MAX_TEXT_CHARS` and at most :data:`MAX_OBSERVABLES` are kept.
    """
    found = _Found()
    for text in texts:
        if isinstance(text, str) and text and not found.full:
            _scan(refang(text[:MAX_TEXT_CHARS]), role, found)
    return list(found.items.values())


def _key_tokens(key: str) -> set[str]:
    """`srcIp`, `src_ip`, `source.ip` -> {'src', 'ip', ...}: the words of a field name."""
    spaced = _CAMEL.sub(r"\1 \2", key[:100])
    return {token for token in _NON_ALNUM.split(spaced.lower()) if token}


_SOURCE_WORDS = frozenset({"src", "source", "client", "remote", "attacker", "origin"})
_DEST_WORDS = frozenset({"dst", "dest", "destination", "target", "server", "victim"})
_IP_WORDS = frozenset({"ip", "ips", "ipv4", "ipv6", "ipaddr", "ipaddress", "addr", "address"})
_IP_PREFIXES = _SOURCE_WORDS | _DEST_WORDS | {"host", "local", "peer"}
_HOST_WORDS = frozenset({"host", "hostname", "instance", "node", "nodename", "computer", "device"})
_USER_WORDS = frozenset({"user", "username", "usr", "account", "login", "principal", "upn"})
_DOMAIN_WORDS = frozenset({"domain", "fqdn", "rrname", "sni", "query"})
_HASH_WORDS = frozenset({"hash", "md5", "sha1", "sha256", "filehash"})
_URL_WORDS = frozenset({"url", "uri"})
_IGNORED_WORDS = frozenset({"agent", "useragent", "count", "total", "id"})


def _ip_word(token: str) -> bool:
    """`ip`, `srcip`, `dstip`, `clientip`, ...: a token naming an IP address."""
    return token in _IP_WORDS or (token.endswith("ip") and token[:-2] in _IP_PREFIXES)


def _role_of(tokens: set[str], default: ObservableRole) -> ObservableRole:
    """The role a field name implies: `src*`/`source` source, `dst*`/`dest*` destination."""
    if any(t in _SOURCE_WORDS or t.startswith(("src", "source")) for t in tokens):
        return Role.SOURCE
    if any(t in _DEST_WORDS or t.startswith(("dst", "dest")) for t in tokens):
        return Role.DESTINATION
    return default


def _user_role(tokens: set[str]) -> ObservableRole:
    """Users are actors unless the field name says they are the destination/target."""
    if _role_of(tokens, Role.ACTOR) is Role.DESTINATION:
        return Role.TARGET
    return Role.ACTOR


def _some(observable: Observable | None) -> list[Observable]:
    """A list of the observable, or an empty list for None."""
    return [observable] if observable else []


def keyed_observable(key: str, value: Any) -> list[Observable]:
    """Observables of one `name: value` pair whose name says what the string holds.

    For label/field maps (Alertmanager labels, Graylog fields): `src_ip`, `dst_ip`,
    `ip`, `instance` (port dropped), `host`, `user`, `domain`, `url`, `hash`, ... A
    bare `src`/`dst` field counts only when it holds an IP address; `user_agent`,
    `*_count` and `*_id` fields and non-string values are ignored.
    """
    tokens = _key_tokens(key)
    if not isinstance(value, str) or tokens & _IGNORED_WORDS:
        return []
    if tokens & _URL_WORDS:
        return url_observables(value)
    if tokens & _HASH_WORDS:
        return _some(hash_observable(value))
    if "email" in tokens or "mail" in tokens:
        return _some(email_observable(value, _user_role(tokens)))
    if tokens & _USER_WORDS or any(t.endswith("user") for t in tokens):
        return _some(email_or_user(value, _user_role(tokens)))
    if tokens & _DOMAIN_WORDS:
        return _some(domain_observable(value))
    if any(_ip_word(token) for token in tokens):
        default = Role.HOST if tokens & _HOST_WORDS else Role.RELATED
        return _some(ip_observable(value, _role_of(tokens, default)))
    if tokens & _HOST_WORDS:
        return _some(host_observable(strip_port(value.strip()), _role_of(tokens, Role.HOST)))
    if tokens & (_SOURCE_WORDS | _DEST_WORDS):
        return _some(ip_observable(value, _role_of(tokens, Role.RELATED)))
    return []


def keyed_observables(fields: Mapping[str, Any]) -> list[Observable]:
    """:func:`keyed_observable` over a mapping; list values contribute each element."""
    found = _Found()
    for key, value in list(fields.items())[: MAX_OBSERVABLES * 2]:
        values = value[:50] if isinstance(value, list) else [value]
        for item in values:
            found.add(*keyed_observable(str(key), item))
    return list(found.items.values())


def collect_observables(
    *parts: Observable | Iterable[Observable | None] | None,
) -> list[Observable]:
    """Flatten helpers' results, drop Nones and repeats, keep at most MAX_OBSERVABLES.

    Order matters: the first occurrence of a value keeps its role, so parsers pass the
    structured, role-specific observables before text findings.
    """
    flat: list[Observable] = []
    for part in parts:
        if isinstance(part, Observable):
            flat.append(part)
        elif part is not None:
            flat.extend(observable for observable in part if observable)
    return dedupe_observables(flat)[:MAX_OBSERVABLES]

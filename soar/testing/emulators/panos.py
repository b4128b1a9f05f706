"""A PAN-OS firewall's XML API, as far as tagging addresses for dynamic address groups.

`/api/` answers, whether the request is a GET or a POST (its `type`, `cmd` and `key`
in the query or the form, as PAN-OS takes them):

- `type=keygen` with `user` and `password`: a fresh key, or code 403 "Invalid
  Credential" in an HTTP 403;
- `type=user-id` with a `<uid-message>`: `register` / `unregister` of an address's
  tags, each `member` with an optional `timeout` in seconds (0 or none: no timeout,
  at most 30 days). A repeat is answered the PAN-OS way, `status="error"` with the
  entry's message "… already exists, ignore" or "… does not exist, ignore unreg";
- `type=op` with `<show><object><registered-ip>` (optional `<ip>`, `<tag><entry
  name=…/>`, `<limit>`, `<start-point>`, 1-based) and `<show><system><info/>`.

Every other call needs a key (`X-PAN-KEY`, or `key=` in the query); a bad one is
answered `<response status="error" code="403">` in an HTTP 403 — or in a 200, since
versions differ (`bad_key_status`). Tags with a timeout lapse on the emulator's clock,
which a test moves with :meth:`PanosEmulator.advance`. :meth:`PanosEmulator.fail_next`
scripts PAN-OS's errors inside a 200, :meth:`PanosEmulator.answer_next` any raw
answer, and :meth:`PanosEmulator.revoke_keys` ends every generated key (its lifetime
ran out).
"""

from __future__ import annotations

import ipaddress
import secrets
import time
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass

from aiohttp import web

from soar.containment.models import ContainmentCommand
from soar.testing.emulators.base import VendorEmulator

XML = "application/xml"
MAX_TIMEOUT = 2_592_000


@dataclass
class _Scripted:
    status: int
    body: str


def _target_key(command: ContainmentCommand) -> str:
    """The address (or network) a command names, as the emulator keys it."""
    network = ipaddress.ip_network(command.target.value, strict=False)
    return str(network.network_address if network.num_addresses == 1 else network)


def _xml(root: ET.Element) -> str:
    return ET.tostring(root, encoding="unicode")


def _error(code: str | None, message: str) -> str:
    """`<response status="error" code="N"><msg><line>message</line></msg></response>`."""
    root = ET.Element("response", status="error")
    if code is not None:
        root.set("code", code)
    ET.SubElement(ET.SubElement(root, "msg"), "line").text = message
    return _xml(root)


def _parse(text: str) -> ET.Element:
    """The caller's XML command (a DOCTYPE is refused, as PAN-OS would)."""
    if "<!DOCTYPE" in text.upper():
        raise ValueError("DOCTYPE not allowed")
    return ET.fromstring(text)  # noqa: S314 - no DOCTYPE, so no entities


class PanosEmulator(VendorEmulator):
    """A PAN-OS device's XML API; see the module docstring."""

    def __init__(
        self,
        *,
        username: str = "soar-api",
        password: str | None = None,
        api_key: str | None = None,
        tag: str = "soar-block",
        bad_key_status: int = 403,
    ) -> None:
        super().__init__()
        self.username = username
        self.password = password or f"pw&{secrets.token_urlsafe(12)}"
        """A fresh one by default (with a character a form must encode)."""
        self.api_key = api_key or f"LUFRPT{secrets.token_hex(24)}"
        self.tag = tag
        self.bad_key_status = bad_key_status
        self.secrets: list[str] = [self.password, self.api_key]
        self.generated_keys: set[str] = set()
        self.keys_issued = 0
        self.tags: dict[str, dict[str, float | None]] = {}
        """address → tag → when it lapses on the emulator's clock (None: never)."""
        self.changes: Counter[str] = Counter()
        """User-ID register/unregister entries received per address."""
        self.offset = 0.0
        self._scripted: list[_Scripted] = []

    # The contract's view of the product

    def effects(self, command: ContainmentCommand) -> int:
        return self.changes[_target_key(command)]

    def in_effect(self, command: ContainmentCommand) -> bool:
        return self.tag in self._live(_target_key(command))

    def undo_out_of_band(self, command: ContainmentCommand) -> None:
        self._live(_target_key(command)).pop(self.tag, None)

    def remaining(self, command: ContainmentCommand) -> float | None:
        """Seconds until the tag on the command's address lapses (None: no timeout)."""
        lapses = self._live(_target_key(command))[self.tag]
        return None if lapses is None else lapses - self.now()

    # Scripting

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        """Move the emulator's clock forward (tag timeouts lapse)."""
        self.offset += seconds

    def revoke_keys(self) -> None:
        """Every generated key stops working, as when its lifetime runs out."""
        self.generated_keys.clear()

    def fail_next(self, code: str, message: str, *, status: int = 200) -> None:
        """Answer the next authenticated call with PAN-OS error `code` (inside a 200)."""
        self._scripted.append(_Scripted(status, _error(code, message)))

    def answer_next(self, body: str, *, status: int = 200) -> None:
        """Answer the next authenticated call with `body` as it is."""
        self._scripted.append(_Scripted(status, body))

    # The API

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/api/", self._api), web.post("/api/", self._api)]

    def open_path(self, request: web.Request) -> bool:
        return request.query.get("type") == "keygen"

    def authorized(self, request: web.Request) -> bool:
        key = request.headers.get("X-PAN-KEY") or request.query.get("key")
        return key == self.api_key or key in self.generated_keys

    def unauthorized(self) -> web.Response:
        root = ET.Element("response", status="error", code="403")
        ET.SubElement(ET.SubElement(root, "result"), "msg").text = "Invalid credentials."
        return web.Response(status=self.bad_key_status, text=_xml(root), content_type=XML)

    async def _api(self, request: web.Request) -> web.Response:
        params = dict(request.query)
        if request.method == "POST":
            params.update({k: str(v) for k, v in (await request.post()).items()})
        kind = params.get("type")
        if kind == "keygen":
            return self._keygen(params)
        if self._scripted:
            scripted = self._scripted.pop(0)
            return web.Response(status=scripted.status, text=scripted.body, content_type=XML)
        try:
            cmd = _parse(params.get("cmd", ""))
        except (ValueError, ET.ParseError):
            return self._answer(_error("18", "Malformed command"))
        if kind == "user-id":
            return self._answer(self._user_id(cmd))
        if kind == "op":
            return self._answer(self._op(cmd))
        return self._answer(_error("17", f"type {kind} is not served by the emulator"))

    @staticmethod
    def _answer(body: str, status: int = 200) -> web.Response:
        return web.Response(status=status, text=body, content_type=XML)

    def _keygen(self, params: dict[str, str]) -> web.Response:
        if params.get("user") != self.username or params.get("password") != self.password:
            root = ET.Element("response", status="error", code="403")
            ET.SubElement(ET.SubElement(root, "result"), "msg").text = "Invalid Credential"
            return self._answer(_xml(root), status=403)
        key = f"LUFRPT{secrets.token_hex(24)}"
        self.generated_keys.add(key)
        self.secrets.append(key)
        self.keys_issued += 1
        root = ET.Element("response", status="success")
        ET.SubElement(ET.SubElement(root, "result"), "key").text = key
        return self._answer(_xml(root))

    def _user_id(self, message: ET.Element) -> str:
        """Apply a uid-message; the answer names each entry that changed nothing."""
        answered = ET.Element("payload")
        for operation in ("register", "unregister"):
            for entry in message.iterfind(f"payload/{operation}/entry"):
                ip = entry.get("ip", "")
                for member in entry.iterfind("tag/member"):
                    words = self._change(operation, ip, member)
                    if words is not None:
                        section = answered.find(operation)
                        if section is None:
                            section = ET.SubElement(answered, operation)
                        ET.SubElement(section, "entry", ip=ip, message=words)
        refused = len(answered) > 0
        response = ET.Element("response", status="error" if refused else "success")
        if refused:
            holder = ET.SubElement(ET.SubElement(response, "msg"), "line")
        else:
            holder = ET.SubElement(response, "result")
        uid = ET.SubElement(holder, "uid-response")
        ET.SubElement(uid, "version").text = "2.0"
        uid.append(answered)
        return _xml(response)

    def _change(self, operation: str, ip: str, member: ET.Element) -> str | None:
        """One tag registered or unregistered; PAN-OS's words when nothing changed."""
        tag = (member.text or "").strip()
        try:
            address = str(ipaddress.ip_address(ip))
        except ValueError:
            return f"invalid IP address {ip}"
        self.changes[address] += 1
        live = self._live(address)
        if operation == "unregister":
            if tag not in live:
                return f"tag {tag} does not exist, ignore unreg"
            del live[tag]
            return None
        if tag in live:
            return f"tag {tag} already exists, ignore"
        timeout = int(member.get("timeout") or 0)
        if timeout < 0 or timeout > MAX_TIMEOUT:
            return f"timeout {timeout} is out of range 0-{MAX_TIMEOUT}"
        live[tag] = self.now() + timeout if timeout else None
        return None

    def _live(self, address: str) -> dict[str, float | None]:
        """The address's tags, those whose timeout lapsed dropped."""
        tags = self.tags.setdefault(address, {})
        now = self.now()
        for tag in [t for t, lapses in tags.items() if lapses is not None and lapses <= now]:
            del tags[tag]
        return tags

    def _op(self, cmd: ET.Element) -> str:
        if cmd.find("system/info") is not None:
            root = ET.Element("response", status="success")
            system = ET.SubElement(ET.SubElement(root, "result"), "system")
            for field, value in (
                ("hostname", "pa-emulator"),
                ("model", "PA-VM"),
                ("serial", "007900000123456"),
                ("sw-version", "11.1.2"),
            ):
                ET.SubElement(system, field).text = value
            return _xml(root)
        query = cmd.find("object/registered-ip")
        if query is None:
            return _error("17", "Invalid syntax: unknown op command")
        return self._registered(query)

    def _registered(self, query: ET.Element) -> str:
        """The registered addresses, filtered by `<ip>` and `<tag>`, one page of them."""
        only_ip = (query.findtext("ip") or "").strip()
        tag_entry = query.find("tag/entry")
        only_tag = tag_entry.get("name") if tag_entry is not None else None
        limit = int(query.findtext("limit") or 0)
        start = int(query.findtext("start-point") or 1)
        rows = []
        for address in sorted(self.tags):
            tags = self._live(address)
            if not tags or (only_ip and str(ipaddress.ip_address(only_ip)) != address):
                continue
            if only_tag is not None and only_tag not in tags:
                continue
            rows.append((address, tags))
        page = rows[start - 1 : start - 1 + limit] if limit else rows[start - 1 :]
        root = ET.Element("response", status="success")
        result = ET.SubElement(root, "result")
        for address, tags in page:
            persistent = "1" if all(lapses is None for lapses in tags.values()) else "0"
            entry = ET.SubElement(result, "entry", ip=address, persistent=persistent)
            members = ET.SubElement(entry, "tag")
            for tag in sorted(tags):
                ET.SubElement(members, "member").text = tag
        ET.SubElement(result, "count").text = str(len(page))
        return _xml(root)

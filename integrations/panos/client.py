"""The part of the PAN-OS XML API the actuator needs, over :class:`VendorHttp`.

- **Key.** `type=keygen` with the admin's username and password answers
  `<response status="success"><result><key>`; the key goes in the `X-PAN-KEY` header.
  The request is a POST with the credentials in the form body (PAN-OS takes GET or
  POST): a password in a query string would be written by every proxy and access log.
  A key PAN-OS stops accepting (its lifetime ran out, an admin revoked it) is replaced
  once, when the actuator was given a username and password.
- **Tags.** `type=user-id` with a `<uid-message>` registers or unregisters an address's
  tag — the dynamic address group follows at once, with no commit.
- **Reading back.** `type=op` with `<show><object><registered-ip>` lists the addresses
  registered with a tag, 500 at a time.

PAN-OS reports most errors inside an HTTP 200 as `<response status="error" code="N">`
with a `<msg>`, and answers a bad key with code 403 (in a 403 or a 200). Repeats of a
User-ID change come back as errors whose every entry says "already exists, ignore" or
"does not exist, ignore unreg": those are answers, not failures. Answers are parsed with
the standard library's ElementTree after refusing any document that declares a DOCTYPE,
so no entity can be declared, let alone expanded (defusedxml is not installed).
"""

from __future__ import annotations

import ipaddress
import xml.etree.ElementTree as ET
from collections.abc import AsyncGenerator

import httpx

from integrations.core.http import VendorHttp
from integrations.core.redaction import Redactor
from integrations.core.waits import standard_wait
from integrations.panos.options import PanosOptions
from soar.integrations.errors import (
    AccessDenied,
    CredentialsRejected,
    IntegrationError,
    RateLimited,
    RequestRejected,
    TargetNotFound,
    TransientError,
)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

API_PATH = "/api/"
PAGE = 500
"""Registered addresses read per call (PAN-OS 8.0+ pages `registered-ip`)."""
KEYGEN_RETRY_SECONDS = 1.0
"""The wait after a rate-limited key request that gave no wait signal."""

BENIGN_REPEATS = ("already exists, ignore", "does not exist, ignore unreg")
"""How PAN-OS words a User-ID change that was already in effect."""

BAD_KEY = "403"
TRANSIENT_CODES = frozenset({"2", "3", "4", "5", "11", "21", "22"})
"""PAN-OS error codes of internal errors and a timed-out session: worth a retry."""
DENIED_CODES = frozenset({"15", "16"})
"""Operation denied, unauthorized: the admin's role may not do this."""
NOT_PRESENT = "7"


class NotPanosXml(ValueError):
    """The answer is not a PAN-OS XML response (or declares a DOCTYPE, refused)."""


def parse_answer(text: str) -> ET.Element:
    """The `<response>` element of a PAN-OS answer. A DOCTYPE (and so any entity
    declaration) is refused before parsing: PAN-OS never sends one."""
    upper = text.upper()
    if "<!DOCTYPE" in upper or "<!ENTITY" in upper:
        raise NotPanosXml("the answer declares a DOCTYPE")
    try:
        root = ET.fromstring(text)  # noqa: S314 - no DOCTYPE, so no entities
    except ET.ParseError as error:
        raise NotPanosXml(f"the answer is not XML ({error})") from None
    if root.tag != "response":
        raise NotPanosXml(f"the answer is <{root.tag}>, not a PAN-OS <response>")
    return root


def _words(root: ET.Element) -> list[str]:
    """PAN-OS's own words in a response: the message of each User-ID entry when there
    are any, else the texts under `<msg>` (its lines)."""
    entries = [
        entry.get("message", "").strip()
        for entry in root.iter("entry")
        if entry.get("message", "").strip()
    ]
    if entries:
        return entries
    return [text.strip() for msg in root.iter("msg") for text in msg.itertext() if text.strip()]


def is_repeat(root: ET.Element) -> bool:
    """Whether an error answer only says the change was already in effect."""
    words = _words(root)
    return bool(words) and all(word.endswith(BENIGN_REPEATS) for word in words)


def _key_refused(response: httpx.Response) -> bool:
    """Whether PAN-OS refused the key (code 403, in a 403 or inside a 200)."""
    if response.status_code == 403:
        return True
    try:
        root = parse_answer(response.text)
    except NotPanosXml:
        return False
    return root.get("status") == "error" and root.get("code") == BAD_KEY


class PanosKey(httpx.Auth):
    """Sends the API key as `X-PAN-KEY`. Given a username and password instead, it
    generates the key on the first call and generates it again, once, when PAN-OS
    refuses it (the retried call's answer then stands)."""

    def __init__(self, integration: str, options: PanosOptions, redactor: Redactor) -> None:
        self.integration = integration
        self.redact = redactor
        self._key = options.api_key.get_secret_value() if options.api_key else None
        self._login: dict[str, str] | None = None
        if options.api_key is None and options.username and options.password:
            self._login = {
                "user": options.username,
                "password": options.password.get_secret_value(),
            }

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if self._key is None:
            await self._accept((yield self._keygen(request)))
        assert self._key is not None
        request.headers["X-PAN-KEY"] = self._key
        response = yield request
        if self._login is None:
            return
        await response.aread()
        if _key_refused(response):
            await self._accept((yield self._keygen(request)))
            request.headers["X-PAN-KEY"] = self._key
            yield request

    def _keygen(self, request: httpx.Request) -> httpx.Request:
        assert self._login is not None
        return httpx.Request("POST", request.url.copy_with(query=b"type=keygen"), data=self._login)

    async def _accept(self, response: httpx.Response) -> None:
        """Keep the key of a keygen answer; a refusal is a permanent error."""
        await response.aread()
        status = response.status_code
        if status == 429:
            wait = standard_wait(response)
            raise RateLimited(
                self.integration,
                "the key request was rate limited",
                retry_after=wait if wait is not None else KEYGEN_RETRY_SECONDS,
            )
        if status >= 500:
            raise TransientError(self.integration, f"the key request answered {status}")
        try:
            root = parse_answer(response.text)
        except NotPanosXml as error:
            raise TransientError(self.integration, f"the key request: {error}") from None
        key = root.findtext("result/key")
        if root.get("status") == "success" and key:
            self.redact.add(key)
            self._key = key
            return
        words = self.redact("; ".join(_words(root))) or f"HTTP {status}"
        if root.get("code") == BAD_KEY or status in (401, 403):
            raise CredentialsRejected(
                self.integration,
                f"the username or password was refused (PAN-OS 403: {words})",
                status=403,
            )
        raise TransientError(self.integration, f"the key request failed: {words}")


class PanosHttp(VendorHttp):
    """:class:`VendorHttp` reading PAN-OS's `<response status="error" code="N">`, which
    says more than the HTTP status: PAN-OS puts most errors in a 200, and its 403 means
    a bad key (refused credentials), not a missing permission."""

    def judge(
        self, response: httpx.Response, label: str, *, missing_ok: bool
    ) -> tuple[IntegrationError, float | None] | None:
        status = response.status_code
        if status == 429 or status >= 500:
            return super().judge(response, label, missing_ok=missing_ok)
        try:
            root = parse_answer(response.text)
        except NotPanosXml as unreadable:
            if status >= 400:
                return super().judge(response, label, missing_ok=missing_ok)
            return TransientError(self.name, f"{label}: {unreadable}"), self._backoff(1)
        if root.get("status") != "error":
            if status >= 400:
                return super().judge(response, label, missing_ok=missing_ok)
            return None
        if root.get("code") is None and is_repeat(root):
            return None
        failure = self._error(root, label)
        return failure, self._backoff(1) if isinstance(failure, TransientError) else None

    def _error(self, root: ET.Element, label: str) -> IntegrationError:
        """The error a PAN-OS error response stands for, in PAN-OS's words."""
        code = root.get("code")
        words = self.redact("; ".join(_words(root))) or "no message"
        said = f"PAN-OS error {code}: {words}" if code else f"PAN-OS: {words}"
        if code == BAD_KEY:
            return CredentialsRejected(
                self.name, f"{label}: the API key was refused ({said})", status=403
            )
        if code in DENIED_CODES:
            return AccessDenied(self.name, f"{label}: the admin may not do this ({said})")
        if code == NOT_PRESENT:
            return TargetNotFound(self.name, f"{label}: not present ({said})")
        if code in TRANSIENT_CODES:
            return TransientError(self.name, f"{label}: {said}")
        return RequestRejected(self.name, f"{label}: refused ({said})")


def _uid_message(operation: str, address: Address, tag: str, timeout: int | None) -> str:
    """A User-ID message that registers (or unregisters) `tag` on `address`."""
    message = ET.Element("uid-message")
    ET.SubElement(message, "version").text = "2.0"
    ET.SubElement(message, "type").text = "update"
    payload = ET.SubElement(message, "payload")
    entry = ET.SubElement(ET.SubElement(payload, operation), "entry", ip=str(address))
    member = ET.SubElement(ET.SubElement(entry, "tag"), "member")
    if timeout is not None:
        member.set("timeout", str(timeout))
    member.text = tag
    return ET.tostring(message, encoding="unicode")


def _registered_ip_query(tag: str, address: Address | None, start: int) -> str:
    """The op command listing the addresses registered with `tag` (only `address`, when
    given), from the `start`-th (1-based)."""
    show = ET.Element("show")
    query = ET.SubElement(ET.SubElement(show, "object"), "registered-ip")
    ET.SubElement(query, "limit").text = str(PAGE)
    ET.SubElement(query, "start-point").text = str(start)
    if address is not None:
        ET.SubElement(query, "ip").text = str(address)
    ET.SubElement(ET.SubElement(query, "tag"), "entry", name=tag)
    return ET.tostring(show, encoding="unicode")


class PanosClient:
    """Tags registered on addresses, and read back, on one firewall or Panorama."""

    def __init__(self, name: str, options: PanosOptions) -> None:
        self.name = name
        self.tag = options.tag
        self._vsys = {"vsys": options.vsys} if options.vsys else {}
        redactor = Redactor(options.secrets())
        auth = PanosKey(name, options, redactor)
        self.http = PanosHttp(name, options, auth=auth, redactor=redactor)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def register(self, address: Address, seconds: int | None) -> bool:
        """Register the tag on `address` for `seconds` (None: until unregistered).
        False when PAN-OS says it already was."""
        message = _uid_message("register", address, self.tag, seconds)
        root = await self._call("user-id", message, f"register {self.tag} on {address}")
        return root.get("status") != "error"

    async def unregister(self, address: Address) -> bool:
        """Unregister the tag from `address`. False when PAN-OS says it was not there."""
        message = _uid_message("unregister", address, self.tag, None)
        root = await self._call("user-id", message, f"unregister {self.tag} from {address}")
        return root.get("status") != "error"

    async def registered(self, address: Address | None = None) -> set[Address]:
        """The addresses registered with the tag now (only `address`, when given)."""
        found: set[Address] = set()
        start = 1
        while True:
            query = _registered_ip_query(self.tag, address, start)
            what = f"read the addresses tagged {self.tag}"
            entries = (await self._call("op", query, what)).findall("result/entry")
            for entry in entries:
                members = {member.text for member in entry.iterfind("tag/member")}
                ip = _address(entry.get("ip"))
                if ip is not None and self.tag in members:
                    found.add(ip)
            if len(entries) < PAGE:
                return found
            start += len(entries)

    async def system_info(self) -> dict[str, str]:
        """The device's hostname, model, serial and software version."""
        root = await self._call("op", "<show><system><info/></system></show>", "system info")
        system = root.find("result/system")
        if system is None:
            return {}
        return {child.tag: (child.text or "").strip() for child in system}

    async def _call(self, kind: str, cmd: str, what: str) -> ET.Element:
        response = await self.http.request(
            "POST", API_PATH, params={"type": kind, **self._vsys}, data={"cmd": cmd}, what=what
        )
        return parse_answer(response.text)


def _address(value: str | None) -> Address | None:
    """An address PAN-OS listed, or None for anything else (a range, a name)."""
    try:
        return ipaddress.ip_address(value or "")
    except ValueError:
        return None


async def check(name: str, options: PanosOptions) -> list[str]:
    """Reach the device, have the credentials accepted and read the tagged addresses —
    changing nothing (`soar integrations check`)."""
    client = PanosClient(name, options)
    try:
        info = await client.system_info()
        tagged = await client.registered()
    finally:
        await client.aclose()
    how = "an API key" if options.api_key else f"a key generated for {options.username}"
    device = info.get("hostname") or "the device"
    model = info.get("model") or "PAN-OS"
    version = info.get("sw-version") or "unknown version"
    return [
        f"reached {device} ({model}, PAN-OS {version}) at {options.base_url}",
        f"credentials accepted ({how})",
        f"{len(tagged)} addresses are tagged {options.tag} now",
    ]

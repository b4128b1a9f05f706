"""A stateful fake of the Slack Web API, with a Socket Mode WebSocket, for tests and
benchmarks.

Point the bot at it with `SLACK_API_URL=<fake.api_url>`. It keeps the messages posted
and updated, the views opened (:attr:`FakeSlack.opened`, with their ids) and published,
the files uploaded and shared (:attr:`FakeSlack.files`, through
`files.getUploadURLExternal`, a POST of the bytes to the upload URL it gave, and
`files.completeUploadExternal`, as Slack's own upload flow), and every call made
(:attr:`FakeSlack.calls`). It can answer the next calls of a method
with 429 and a `Retry-After` (:meth:`FakeSlack.rate_limit`) or with any Slack error
(:meth:`FakeSlack.fail`). `apps.connections.open` returns the URL of its own WebSocket,
where :meth:`FakeSlack.send_envelope` delivers Socket Mode envelopes and records acks.

:func:`signed_headers` and :func:`interaction_body` build requests to the bot exactly as
Slack signs and encodes them.

    async with FakeSlack() as slack:
        settings = Settings(slack_api_url=slack.api_url, ...)
        ...
        posted = await slack.wait_for("chat.postMessage")
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode

from aiohttp import WSMsgType, web
from slack_sdk.signature import SignatureVerifier

from soar.testing.loopback import serve_on_loopback

Args = dict[str, Any]
FORM = "application/x-www-form-urlencoded"
T = TypeVar("T")
JSON_FIELDS = ("blocks", "view", "attachments", "metadata")


@dataclass
class SlackCall:
    """One Web API call as the fake received it, its answer, and when (Unix time)."""

    method: str
    args: Args
    token: str | None
    status: int = 200
    response: Args = field(default_factory=dict)
    at: float = field(default_factory=time.time)

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))


@dataclass
class FakeMessage:
    """A message in a channel as it stands now (after every `chat.update`)."""

    channel: str
    ts: str
    text: str | None
    blocks: list[dict[str, Any]]
    thread_ts: str | None = None
    updates: int = 0


@dataclass
class FakeFile:
    """A file as uploaded: its bytes once posted to its upload URL, where it is shared
    once the upload is completed."""

    id: str
    filename: str
    length: int
    alt_txt: str | None = None
    content: bytes | None = None
    title: str | None = None
    channel: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None

    @property
    def shared(self) -> bool:
        return self.channel is not None


@dataclass
class _Failure:
    status: int
    error: str
    times: int
    retry_after: int | None = None


@dataclass
class _Socket:
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    acks: dict[str, dict[str, Any]] = field(default_factory=dict)


class FakeSlack:
    """See the module docstring."""

    def __init__(
        self,
        *,
        bot_user_id: str = "UBOTSOAR",
        team_id: str = "T0SOAR",
        usergroups: dict[str, list[str]] | None = None,
    ) -> None:
        self.bot_user_id = bot_user_id
        self.team_id = team_id
        self.usergroups = dict(usergroups or {})
        self.calls: list[SlackCall] = []
        self.messages: dict[tuple[str, str], FakeMessage] = {}
        self.responses: list[dict[str, Any]] = []
        self.opened: list[dict[str, Any]] = []
        self.published: dict[str, dict[str, Any]] = {}
        self.files: dict[str, FakeFile] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._socket = _Socket()
        self._clock = itertools.count(1)
        self._views = itertools.count(1)
        self._envelopes = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Event()
        self.port = 0
        self._methods: dict[str, Callable[[Args], Args]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.getPermalink": self._permalink,
            "views.open": self._views_open,
            "views.publish": self._views_publish,
            "usergroups.users.list": self._usergroup_users,
            "apps.connections.open": self._connections_open,
            "files.getUploadURLExternal": self._get_upload_url,
            "files.completeUploadExternal": self._complete_upload,
        }

    # Life cycle

    async def start(self) -> None:
        """Serve on a free loopback port."""
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{name}", self._response_url)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/socket-mode", self._websocket)
        self._runner, self.port = await serve_on_loopback(app)

    async def stop(self) -> None:
        for ws in self._socket.sockets:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeSlack:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """The Web API base URL for `SLACK_API_URL` (ends in `/`)."""
        return f"{self.base_url}/api/"

    def response_url(self, name: str) -> str:
        """A `response_url` for a slash command or interaction; posts to it are kept in
        :attr:`responses`."""
        return f"{self.base_url}/response/{name}"

    # Scripting failures

    def rate_limit(self, method: str, *, times: int = 1, retry_after: int = 1) -> None:
        """Answer the next `times` calls of `method` with 429 and `Retry-After`."""
        self._failures.setdefault(method, []).append(
            _Failure(429, "ratelimited", times, retry_after)
        )

    def fail(self, method: str, error: str, *, times: int = 1) -> None:
        """Answer the next `times` calls of `method` with `{"ok": false, "error": error}`."""
        self._failures.setdefault(method, []).append(_Failure(200, error, times))

    # Looking at what happened

    def calls_to(self, method: str) -> list[Args]:
        """The arguments of every successful call of `method`, in order."""
        return [c.args for c in self.calls if c.method == method and c.ok]

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[Args], bool] = lambda _: True,
        *,
        count: int = 1,
        within: float = 10.0,
    ) -> Args:
        """The `count`-th successful call of `method` matching `predicate`, waiting for it
        (the bot acknowledges first and calls Slack afterwards)."""

        def found() -> Args | None:
            matching = [args for args in self.calls_to(method) if predicate(args)]
            return matching[count - 1] if len(matching) >= count else None

        return await self._until(found, f"{method} call #{count}", within)

    async def wait_for_response(self, *, count: int = 1, within: float = 10.0) -> dict[str, Any]:
        """The `count`-th post to a `response_url`, waiting for it."""

        def found() -> dict[str, Any] | None:
            return self.responses[count - 1] if len(self.responses) >= count else None

        return await self._until(found, f"response_url post #{count}", within)

    def thread(self, channel: str, ts: str) -> list[FakeMessage]:
        """The replies in a message's thread, oldest first."""
        return [m for m in self.messages.values() if m.channel == channel and m.thread_ts == ts]

    async def _until(self, check: Callable[[], T | None], what: str, within: float) -> T:
        """`check()` once it is not `None`, re-checked after each change the fake sees;
        `TimeoutError` after `within` seconds."""
        try:
            async with asyncio.timeout(within):
                while (found := check()) is None:
                    await self._changed.wait()
                return found
        except TimeoutError:
            raise TimeoutError(f"no {what} within {within} s") from None

    def _notify(self) -> None:
        """Wake every waiter of :meth:`_until`."""
        self._changed.set()
        self._changed = asyncio.Event()

    # Socket Mode

    async def send_envelope(self, kind: str, payload: dict[str, Any]) -> str:
        """Deliver a Socket Mode envelope (`slash_commands`, `interactive`, `events_api`)
        to the connected client; returns its envelope id."""
        await asyncio.wait_for(self._socket.connected.wait(), timeout=10)
        envelope_id = f"env-{next(self._envelopes)}"
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
            "retry_attempt": 0,
            "retry_reason": "",
        }
        await self._socket.sockets[-1].send_str(json.dumps(envelope))
        return envelope_id

    async def wait_for_ack(self, envelope_id: str, *, within: float = 10.0) -> dict[str, Any]:
        """The client's acknowledgement of an envelope."""
        return await self._until(
            lambda: self._socket.acks.get(envelope_id), f"ack of {envelope_id}", within
        )

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._socket.sockets.append(ws)
        await ws.send_str(json.dumps({"type": "hello", "num_connections": 1}))
        self._socket.connected.set()
        async for message in ws:
            if message.type is WSMsgType.TEXT:
                data = json.loads(message.data)
                if "envelope_id" in data:
                    self._socket.acks[data["envelope_id"]] = data
                    self._notify()
        self._socket.sockets.remove(ws)
        if not self._socket.sockets:
            self._socket.connected.clear()
        return ws

    # HTTP

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await _arguments(request)
        token = _token(request, args)
        status, headers = 200, {}
        failure = self._next_failure(method)
        if failure is not None:
            status, answer = failure.status, {"ok": False, "error": failure.error}
            if failure.retry_after:
                headers["Retry-After"] = str(failure.retry_after)
        elif not token:
            answer = {"ok": False, "error": "not_authed"}
        elif method not in self._methods:
            answer = {"ok": False, "error": "unknown_method"}
        else:
            answer = self._methods[method](args)
        self.calls.append(SlackCall(method, args, token, status, answer))
        self._notify()
        return web.json_response(answer, status=status, headers=headers)

    async def _response_url(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.responses.append({"name": request.match_info["name"], **body})
        self._notify()
        return web.Response(text="ok")

    async def _upload(self, request: web.Request) -> web.Response:
        """The upload URL: takes the bytes of a file `files.getUploadURLExternal` named
        (the raw body, or a multipart `file` field), which must be as long as it said."""
        file = self.files.get(request.match_info["file_id"])
        if file is None or file.content is not None:
            return web.Response(status=404, text="unknown or used upload URL")
        if request.content_type.startswith("multipart/"):
            field = (await request.post()).get("file")
            body = field.file.read() if isinstance(field, web.FileField) else b""
        else:
            body = await request.read()
        if len(body) != file.length:
            return web.Response(status=400, text=f"expected {file.length} bytes")
        file.content = body
        self._notify()
        return web.Response(text=f"OK - {len(body)}")

    def _next_failure(self, method: str) -> _Failure | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.times -= 1
        if failure.times <= 0:
            queue.pop(0)
        return failure

    def _ts(self) -> str:
        return f"{int(time.time())}.{next(self._clock):06d}"

    # Methods

    def _auth_test(self, _: Args) -> Args:
        return {
            "ok": True,
            "url": "https://soar-test.slack.com/",
            "team": "SOAR Test",
            "user": "soar",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": "B0SOAR",
        }

    def _post_message(self, args: Args) -> Args:
        channel = args.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("text") and not args.get("blocks"):
            return {"ok": False, "error": "no_text"}
        ts = self._ts()
        self.messages[(channel, ts)] = FakeMessage(
            channel=channel,
            ts=ts,
            text=args.get("text"),
            blocks=args.get("blocks") or [],
            thread_ts=args.get("thread_ts"),
        )
        return {"ok": True, "channel": channel, "ts": ts, "message": {"ts": ts}}

    def _update(self, args: Args) -> Args:
        message = self.messages.get((args.get("channel", ""), args.get("ts", "")))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        message.text = args.get("text", message.text)
        message.blocks = args.get("blocks", message.blocks)
        message.updates += 1
        return {"ok": True, "channel": message.channel, "ts": message.ts}

    def _post_ephemeral(self, args: Args) -> Args:
        if not args.get("channel") or not args.get("user"):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True, "message_ts": self._ts()}

    def _permalink(self, args: Args) -> Args:
        channel, ts = args.get("channel", ""), str(args.get("message_ts", ""))
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"https://soar-test.slack.com/archives/{channel}/p{ts.replace('.', '')}",
        }

    def _views_open(self, args: Args) -> Args:
        if not args.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        view = dict(args.get("view") or {})
        view["id"] = f"V{next(self._views):08d}"
        self.opened.append(view)
        return {"ok": True, "view": view}

    def _views_publish(self, args: Args) -> Args:
        user = args.get("user_id")
        if not user:
            return {"ok": False, "error": "invalid_arguments"}
        self.published[user] = args.get("view") or {}
        return {"ok": True, "view": self.published[user]}

    def _usergroup_users(self, args: Args) -> Args:
        group = args.get("usergroup", "")
        if group not in self.usergroups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": self.usergroups[group]}

    def _connections_open(self, _: Args) -> Args:
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket-mode"}

    def _get_upload_url(self, args: Args) -> Args:
        filename, length = args.get("filename"), str(args.get("length", ""))
        if not filename or not length.isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._file_ids):08d}"
        self.files[file_id] = FakeFile(
            id=file_id, filename=filename, length=int(length), alt_txt=args.get("alt_txt")
        )
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _complete_upload(self, args: Args) -> Args:
        wanted = args.get("files") or "[]"
        try:
            wanted = json.loads(wanted) if isinstance(wanted, str) else wanted
        except ValueError:
            return {"ok": False, "error": "invalid_arguments"}
        if not isinstance(wanted, list) or not wanted:
            return {"ok": False, "error": "invalid_arguments"}
        done: list[FakeFile] = []
        for entry in wanted:
            file = self.files.get(str(entry.get("id"))) if isinstance(entry, dict) else None
            if file is None or file.content is None:
                return {"ok": False, "error": "file_not_found"}
            file.title = entry.get("title") or file.filename
            done.append(file)
        channel = args.get("channel_id")
        for file in done:
            file.channel = channel
            file.thread_ts = args.get("thread_ts")
            file.initial_comment = args.get("initial_comment")
        return {
            "ok": True,
            "files": [{"id": file.id, "title": file.title, "name": file.filename} for file in done],
        }


async def _arguments(request: web.Request) -> Args:
    """Query, form and JSON arguments merged, with JSON-in-form fields decoded."""
    args: Args = dict(request.query)
    body = await request.read()
    if body:
        if request.content_type == "application/json":
            args.update(json.loads(body))
        else:
            args.update(parse_qsl(body.decode(), keep_blank_values=True))
    for name in JSON_FIELDS:
        if isinstance(args.get(name), str):
            with contextlib.suppress(ValueError):
                args[name] = json.loads(args[name])
    return args


def _token(request: web.Request, args: Args) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token:
        return token
    return args.get("token")


def signed_headers(
    body: str, secret: str, *, timestamp: int | None = None, content_type: str = FORM
) -> dict[str, str]:
    """The headers Slack sends with `body`: its signature with the signing secret."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    assert signature is not None, "slack_sdk signs every body with a secret"
    return {
        "content-type": content_type,
        "x-slack-signature": signature,
        "x-slack-request-timestamp": stamp,
    }


def interaction_body(payload: dict[str, Any]) -> str:
    """An interactivity request body: `payload=<url-encoded JSON>`."""
    return urlencode({"payload": json.dumps(payload)})

"""Sender authentication for webhooks: bearer or custom-header token, basic auth,
HMAC-SHA256 of the body (Grafana's format by default), or a token in the query string.

Secure by default: a source without an `auth` entry is refused unless the shared
`SOAR_WEBHOOK_TOKEN` is presented or the config says `auth = "none"`. Every comparison
is constant-time and no secret is ever put in an error message or a log line.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import time
from collections.abc import Mapping

from pydantic import SecretStr

from soar.settings import SourceAuth


class AuthError(Exception):
    """The request did not prove it comes from the configured sender (answered with 401)."""


def _same(presented: str | bytes, expected: str | bytes) -> bool:
    left = presented.encode() if isinstance(presented, str) else presented
    right = expected.encode() if isinstance(expected, str) else expected
    return hmac.compare_digest(left, right)


def _bearer(headers: Mapping[str, str]) -> str | None:
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials else None


def _shared_token_matches(
    headers: Mapping[str, str], query: Mapping[str, str], token: SecretStr
) -> bool:
    expected = token.get_secret_value()
    presented = [_bearer(headers), query.get("token")]
    return any(value is not None and _same(value, expected) for value in presented)


def _check_basic(headers: Mapping[str, str], auth: SourceAuth) -> None:
    scheme, _, encoded = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise AuthError("expected HTTP basic authentication")
    try:
        username, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as error:
        raise AuthError("malformed basic authentication header") from error
    assert auth.username is not None and auth.password is not None
    user_ok = _same(username, auth.username)
    password_ok = _same(password, auth.password.get_secret_value())
    if not (user_ok and password_ok):
        raise AuthError("wrong username or password")


def _check_hmac(headers: Mapping[str, str], body: bytes, auth: SourceAuth, now: float) -> None:
    signature = headers.get(auth.signature_header.lower())
    if not signature:
        raise AuthError(f"missing signature header {auth.signature_header}")
    signature = signature.strip().removeprefix("sha256=")
    signed = body
    if auth.timestamp_header:
        stamp = headers.get(auth.timestamp_header.lower())
        if not stamp:
            raise AuthError(f"missing timestamp header {auth.timestamp_header}")
        try:
            seconds = float(stamp)
        except ValueError as error:
            raise AuthError(f"timestamp header {auth.timestamp_header} is not a number") from error
        if not math.isfinite(seconds):  # NaN compares false, so it would pass the window
            raise AuthError(f"timestamp header {auth.timestamp_header} is not a number")
        if seconds > 1e11:
            seconds /= 1000
        if abs(now - seconds) > auth.max_skew_seconds:
            raise AuthError("request timestamp is outside the allowed window")
        signed = stamp.encode() + b":" + body
    assert auth.secret is not None
    expected = hmac.new(auth.secret.get_secret_value().encode(), signed, hashlib.sha256)
    if not _same(signature.lower(), expected.hexdigest()):
        raise AuthError("signature does not match the body")


def _check_token(presented: str | None, expected: SecretStr | None, where: str) -> None:
    if presented is None:
        raise AuthError(f"missing token in {where}")
    assert expected is not None
    if not _same(presented, expected.get_secret_value()):
        raise AuthError(f"wrong token in {where}")


def verify(
    *,
    source: str,
    auth: SourceAuth | None,
    shared_token: SecretStr | None,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    body: bytes,
    now: float | None = None,
) -> None:
    """Raise :class:`AuthError` unless the request is authentic for `source`.

    `headers` must have lower-case names (Starlette's do). The shared token is accepted
    for every source in addition to the source's own scheme.
    """
    if shared_token is not None and _shared_token_matches(headers, query, shared_token):
        return
    if auth is None:
        if shared_token is not None:
            raise AuthError("missing or wrong token (Authorization: Bearer or ?token=)")
        raise AuthError(
            f"source {source!r} has no authentication configured; configure one, "
            'or set auth = "none" to accept unauthenticated requests'
        )
    match auth.type:
        case "none":
            return
        case "bearer":
            _check_token(_bearer(headers), auth.token, "Authorization: Bearer")
        case "header":
            assert auth.header is not None
            _check_token(headers.get(auth.header.lower()), auth.token, f"header {auth.header}")
        case "query":
            _check_token(query.get(auth.query_param), auth.token, f"query {auth.query_param}")
        case "basic":
            _check_basic(headers, auth)
        case "hmac":
            _check_hmac(headers, body, auth, time.time() if now is None else now)

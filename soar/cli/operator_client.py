"""A small httpx client for the running API, used by the CLI commands."""

from __future__ import annotations

from typing import Any

import httpx

from soar.settings import Settings


class ApiError(Exception):
    """The API answered with an error or could not be reached; the message says which."""


def _raise_for(response: httpx.Response) -> None:
    if response.is_success:
        return
    try:
        body = response.json()
        message = body.get("message") or body.get("detail") or response.text
    except ValueError:
        message = response.text
    raise ApiError(f"HTTP {response.status_code}: {message}")


class OperatorClient:
    """Calls the operator API and the webhook endpoint with the configured tokens."""

    def __init__(
        self, settings: Settings, base_url: str | None = None, timeout: float = 30.0
    ) -> None:
        self.settings = settings
        self.base_url = (base_url or settings.base_url()).rstrip("/")
        self.timeout = timeout

    def _headers(self) -> dict[str, str]:
        token = self.settings.api_token
        return {"Authorization": f"Bearer {token.get_secret_value()}"} if token else {}

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = httpx.request(
                method, f"{self.base_url}{path}", timeout=self.timeout, **kwargs
            )
        except httpx.HTTPError as error:
            raise ApiError(f"cannot reach the API at {self.base_url}: {error}") from error
        _raise_for(response)
        return response

    def get(self, path: str, **params: Any) -> Any:
        clean = {k: v for k, v in params.items() if v is not None}
        return self._request("GET", path, params=clean, headers=self._headers()).json()

    def post(self, path: str, body: Any) -> Any:
        return self._request("POST", path, json=body, headers=self._headers()).json()

    def delete(self, path: str, **params: Any) -> None:
        clean = {k: v for k, v in params.items() if v is not None}
        self._request("DELETE", path, params=clean, headers=self._headers())

    def send_webhook(self, source: str, body: bytes, content_type: str) -> Any:
        headers = {"Content-Type": content_type}
        token = self.settings.webhook_token
        if token:
            headers["Authorization"] = f"Bearer {token.get_secret_value()}"
        return self._request("POST", f"/webhooks/{source}", content=body, headers=headers).json()

"""Talking to the team server over HTTP (httpx): clear errors, retries for what is worth retrying."""

from __future__ import annotations

import time
from typing import Any

import httpx

RETRIES = 3


class SyncError(Exception):
    """Sync could not finish; the message is meant for the user. Nothing acknowledged is lost."""


class Offline(SyncError):
    """The server cannot be reached (no network, server down)."""


class NotLoggedIn(SyncError):
    """The server refused the login token (missing, expired or revoked)."""


class Refused(SyncError):
    """The server refused the request (4xx other than 401); carries the status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class Server:
    """One server URL, optionally with a bearer token."""

    def __init__(self, url: str, token: str | None = None, *, timeout: float = 30.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        if not url.startswith(("http://", "https://")):
            raise SyncError(f"server: {url!r} is not an http:// or https:// URL")
        self.url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def request(self, method: str, path: str, *, raw: bool = False, **kwargs) -> Any:
        """Send, retrying network errors and 5xx with backoff (every call the client makes is safe to
        repeat: pushes are idempotent by op id, files by their hash); 4xx answers are raised at once.
        Returns the decoded JSON answer, or its bytes when raw."""
        last: Exception | None = None
        for attempt in range(RETRIES):
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                last = exc
            else:
                if response.status_code < 400:
                    return response.content if raw else response.json()
                message = _detail(response)
                if response.status_code == 401:
                    raise NotLoggedIn(message)
                if response.status_code < 500:
                    raise Refused(message, response.status_code)
                last = SyncError(f"the server failed ({response.status_code}): {message}")
            if attempt < RETRIES - 1:
                time.sleep(0.2 * 2 ** attempt)
        if isinstance(last, httpx.TransportError):
            raise Offline(f"cannot reach {self.url} ({type(last).__name__}); working offline") from last
        raise last  # type: ignore[misc]

    def health(self, timeout: float = 3.0) -> bool:
        try:
            return self._http.get("/health", timeout=timeout).status_code == 200
        except httpx.HTTPError:
            return False

    def login(self, email: str, password: str) -> dict[str, Any]:
        return self.request("POST", "/auth/login", json={"email": email, "password": password})

    def push(self, node_id: str, ops: list[dict]) -> list[dict]:
        return self.request("POST", "/sync/push", json={"node_id": node_id, "ops": ops})["results"]

    def pull(self, since: int, limit: int) -> dict[str, Any]:
        return self.request("GET", "/sync/pull", params={"since": since, "limit": limit})

    def put_file(self, sha256: str, mime: str, data: bytes) -> dict[str, Any]:
        return self.request("PUT", f"/files/{sha256}", content=data, headers={"Content-Type": mime},
                            timeout=max(60.0, len(data) / 250_000))  # a 25 MB receipt on a slow uplink

    def get_file(self, sha256: str) -> bytes:
        return self.request("GET", f"/files/{sha256}", raw=True, timeout=120.0)


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
        return str(body.get("detail", body)) if isinstance(body, dict) else str(body)
    except ValueError:
        return response.text[:200] or response.reason_phrase

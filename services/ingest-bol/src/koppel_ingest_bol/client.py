"""The bol Retailer API v10 client: OAuth2 client credentials, the v10 media type, all
pages, bol's rate limits per endpoint group, and errors classified.

- Tokens (bol.md §2): `POST <login>/token` with HTTP Basic client id:secret and
  `grant_type=client_credentials` in the form body; the token is kept until shortly
  before its `expires_in` (299 s) and shared by every request of the connection. A 401
  from the API (expired — bol's "JWT expired at …" — or revoked) is answered with one
  fresh token and one more try; a second 401, or the token server refusing the pair
  (`invalid_client`), is a `CredentialsError` that names the client id.
- Retries and classification are the chassis' `PolicyClient`: 5xx, 408, network errors
  and 429 (waiting bol's `Retry-After`) are retried; 401/403 are credentials (403 is
  bol's "Account is not active"); other 4xx are permanent, with bol's problem text.
- Requests are budgeted per endpoint group (`calls.GroupBudget`), retries included.
- JSON is read with `parse_float=Decimal`: prices never pass through a binary float.
- Lists (bol.md §6): page size fixed at 50, no totals, an empty page is `{}`; a list
  ends at the first page with fewer than 50 entries.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncGenerator, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import httpx
from koppel_chassis import CredentialsError, ExternalError, PermanentError
from koppel_ingest import BudgetedPolicyClient
from pydantic import SecretStr

from .calls import BolMetrics, GroupBudget

PAGE_SIZE = 50
PRODUCTION_API_HOST = "api.bol.com"
PRODUCTION_LOGIN = "https://login.bol.com"

BolJson = dict[str, Any]


def parse_json(content: bytes | str) -> Any:
    return json.loads(content, parse_float=Decimal)


def api_root(base_url: str) -> str:
    """The connection's `base_url` is bol's API host (or a path on it): requests go to
    `<root>/retailer/…`."""
    root = base_url.rstrip("/")
    return root.removesuffix("/retailer")


def token_url(base_url: str, login_url: str | None = None) -> str:
    """bol's token server is another host (bol.md §1); a sandbox answers both."""
    if login_url:
        return login_url.rstrip("/").removesuffix("/token") + "/token"
    if urlsplit(base_url).hostname == PRODUCTION_API_HOST:
        return PRODUCTION_LOGIN + "/token"
    return api_root(base_url) + "/token"


def problem_text(body: Any) -> str:
    """bol's problem object (or OAuth error) in one line (bol.md §8)."""
    if isinstance(body, dict):
        if "error" in body:
            return f"{body['error']}: {body.get('error_description', '')}".strip(": ")
        parts = [str(body[k]) for k in ("title", "detail") if body.get(k)]
        for violation in body.get("violations") or []:
            if isinstance(violation, dict):
                parts.append(f"{violation.get('name')}: {violation.get('reason')}")
        if parts:
            return " — ".join(parts)
    return str(body)[:200] if body else "no explanation"


class Tokens:
    """The connection's access token, fetched once and shared until shortly before it
    expires (bol blocks callers that ask for a token per call, §2.1)."""

    def __init__(self, http: BolHttp, url: str, client_id: str, secret: SecretStr, margin: float):
        self.http = http
        self.url = url
        self.client_id = client_id
        self.secret = secret
        self.margin = margin
        self._token: str | None = None
        self._valid_until = 0.0
        self._lock = asyncio.Lock()

    async def bearer(self) -> str:
        async with self._lock:
            if self._token is None or time.monotonic() >= self._valid_until:
                await self._fetch()
            assert self._token is not None
            return self._token

    def forget(self, token: str) -> None:
        if self._token == token:
            self._token = None

    async def _fetch(self) -> None:
        auth = httpx.BasicAuth(self.client_id, self.secret.get_secret_value())
        try:
            # One attempt: the API request this token is for is retried as a whole.
            response = await self.http.send_once(
                "POST",
                self.url,
                bearer=False,
                auth=auth,
                data={"grant_type": "client_credentials"},
                headers={"accept": "application/json"},
            )
        except CredentialsError as error:
            raise CredentialsError(
                f"bol refuses client id {self.client_id} ({problem_text(error.body)})",
                status=error.status,
                body=error.body,
            ) from error
        body = _json_or_none(response)
        if not isinstance(body, dict) or not body.get("access_token"):
            raise PermanentError(f"{self.url} answered without an access token")
        if str(body.get("token_type", "Bearer")).lower() != "bearer":
            raise PermanentError(f"{self.url} answered a {body.get('token_type')} token")
        lifetime = float(body.get("expires_in") or 299)
        self._token = str(body["access_token"])
        self._valid_until = time.monotonic() + max(1.0, lifetime - self.margin)


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return parse_json(response.content) if response.content else None
    except ValueError:
        return None


class BolHttp(BudgetedPolicyClient):
    """The chassis policy with bol's bearer token on every API request."""

    tokens: Tokens

    async def send_once(
        self, method: str, url: str, *, bearer: bool = True, **kwargs: Any
    ) -> httpx.Response:
        if not bearer:
            return await super().send_once(method, url, **kwargs)
        token = await self.tokens.bearer()
        try:
            return await super().send_once(method, url, **_with_token(kwargs, token))
        except CredentialsError as error:
            if error.status != 401:
                raise
            self.tokens.forget(token)  # expired or revoked: one fresh token, one more try
            token = await self.tokens.bearer()
            return await super().send_once(method, url, **_with_token(kwargs, token))


def _with_token(kwargs: dict[str, Any], token: str) -> dict[str, Any]:
    headers = {**(kwargs.get("headers") or {}), "authorization": f"Bearer {token}"}
    return {**kwargs, "headers": headers}


class BolClient:
    def __init__(
        self,
        base_url: str,
        client_id: str,
        secret: SecretStr,
        *,
        rate_limits: Mapping[str, tuple[int, float]],
        login_url: str | None = None,
        media_type: str = "application/vnd.retailer.v10+json",
        timeout_seconds: float = 10.0,
        max_attempts: int = 4,
        max_retry_seconds: float = 30.0,
        token_margin_seconds: float = 30.0,
        metrics: BolMetrics | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.root = api_root(base_url)
        self.client_id = client_id
        self.media_type = media_type
        http = httpx.AsyncClient(
            timeout=timeout_seconds,
            transport=transport,
            event_hooks=metrics.hooks() if metrics is not None else None,
        )
        self.http = BolHttp(
            http,
            name="bol",
            budget=GroupBudget(rate_limits),
            max_attempts=max_attempts,
            max_retry_seconds=max_retry_seconds,
        )
        self.http.tokens = Tokens(
            self.http, token_url(base_url, login_url), client_id, secret, token_margin_seconds
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"accept": self.media_type, **kwargs.pop("headers", {})}
        url = self.root + path
        try:
            response = await self.http.request(method, url, headers=headers, **kwargs)
        except CredentialsError as error:
            raise CredentialsError(
                f"bol refuses client id {self.client_id} for {self.root}"
                f" (HTTP {error.status}: {problem_text(error.body)})",
                status=error.status,
                body=error.body,
            ) from error
        except PermanentError as error:
            if error.status == 404:
                raise
            raise PermanentError(
                f"bol {method} {path}: HTTP {error.status}: {problem_text(error.body)}",
                status=error.status,
                body=error.body,
            ) from error
        return parse_json(response.content) if response.content else None

    async def _get_or_none(self, path: str) -> BolJson | None:
        try:
            found: BolJson = await self._call("GET", path)
        except ExternalError as error:
            if error.status == 404:
                return None
            raise
        return found

    async def _pages(
        self, path: str, key: str, params: dict[str, Any]
    ) -> AsyncGenerator[BolJson, None]:
        page = 1
        while True:
            body = await self._call("GET", path, params={**params, "page": page})
            items = (body.get(key) or []) if isinstance(body, dict) else []
            for item in items:
                yield item
            if len(items) < PAGE_SIZE:
                return
            page += 1

    # --- orders (bol.md §3.1, §3.2) -------------------------------------------------

    def orders(
        self,
        *,
        status: str = "ALL",
        fulfilment_method: str = "ALL",
        change_interval_minute: int | None = None,
        latest_change_date: str | None = None,
    ) -> AsyncGenerator[BolJson, None]:
        params: dict[str, Any] = {"status": status, "fulfilment-method": fulfilment_method}
        if change_interval_minute is not None:
            params["change-interval-minute"] = change_interval_minute
        if latest_change_date is not None:
            params["latest-change-date"] = latest_change_date
        return self._pages("/retailer/orders", "orders", params)

    async def order(self, order_id: str) -> BolJson | None:
        """The order, or None when bol does not (or no longer) show it."""
        return await self._get_or_none(f"/retailer/orders/{order_id}")

    # --- shipments (§3.3, §3.4) --------------------------------------------------------

    def shipments(
        self, *, fulfilment_method: str | None = None, order_id: str | None = None
    ) -> AsyncGenerator[BolJson, None]:
        """`order-id` only without `fulfilment-method` (bol.md §9 item 5)."""
        params = {"order-id": order_id} if order_id else {"fulfilment-method": fulfilment_method}
        return self._pages("/retailer/shipments", "shipments", params)

    async def shipment(self, shipment_id: str) -> BolJson | None:
        return await self._get_or_none(f"/retailer/shipments/{shipment_id}")

    # --- returns -----------------------------------------------------------------------

    def handled_returns(self) -> AsyncGenerator[BolJson, None]:
        """Handled returns of both fulfilment methods, the last handled first."""
        return self._pages("/retailer/returns", "returns", {"handled": "true"})

    # --- invoice requests (§3.5) ---------------------------------------------------------

    def invoice_requests(self, state: str = "OPEN") -> AsyncGenerator[BolJson, None]:
        path = "/retailer/shipments/invoices/requests"
        return self._pages(path, "invoiceRequests", {"state": state})

    async def upload_invoice(self, shipment_id: str, document: bytes, filename: str) -> BolJson:
        """The invoice file as the multipart field `invoice`: bol answers 202 with the
        process status of the upload."""
        files = {"invoice": (filename, document, "application/xml")}
        status: BolJson = await self._call(
            "POST", f"/retailer/shipments/invoices/{shipment_id}", files=files
        )
        return status

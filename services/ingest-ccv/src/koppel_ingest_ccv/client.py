"""The CCV Shop REST API client: signed, paged, retried, and kept under CCV's limits.

- Every request is signed (x-public / x-date / x-hash, ccvshop.md §2) by an
  httpx Auth, so a retried attempt is signed afresh over the exact bytes sent.
- Retries and failure classification are the chassis' PolicyClient: 5xx, 408,
  429 and network errors are retried with backoff; 401/403 become a
  CredentialsError that names the key; anything else is permanent.
- CCV limits each resource and method to 150 GET / 100 writes per minute
  (§10): the runtime's request budget (`koppel_ingest.RequestBudget`) keeps a
  leaky bucket per resource and method, spent on every attempt.
- JSON is parsed with Decimal for every number, so money never passes through
  a binary float.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Generator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import httpx
from koppel_chassis import CredentialsError, PermanentError
from koppel_ingest import BudgetedPolicyClient, RequestBudget
from pydantic import SecretStr

from .signing import format_date, request_signature

API_PREFIX = "/api/rest/v1"

CcvJson = dict[str, Any]


class ResponseSignatureError(PermanentError):
    """A successful answer whose x-hash does not match: not trusted, not used."""


def parse_json(content: bytes | str) -> Any:
    return json.loads(content, parse_float=Decimal)


def api_root(shop_url: str) -> str:
    """The connection's `base_url` is the shop's URL (or already its API root)."""
    root = shop_url.rstrip("/")
    return root if root.endswith(API_PREFIX) else root + API_PREFIX


def rate_limit_resource(path: str) -> str:
    """What CCV counts a request against: the last non-numeric segment after /api/rest/v1."""
    names = [s for s in path.split(API_PREFIX, 1)[-1].split("/") if s and not s.isdigit()]
    return names[-1] if names else "root"


class CcvAuth(httpx.Auth):
    requires_request_body = True

    def __init__(self, public_key: str, secret: SecretStr) -> None:
        self.public_key = public_key
        self.secret = secret

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        date = format_date(datetime.now(UTC))
        request.headers["x-public"] = self.public_key
        request.headers["x-date"] = date
        request.headers["x-hash"] = request_signature(
            self.secret.get_secret_value(),
            self.public_key,
            request.method,
            request.url.raw_path.decode("ascii"),
            request.content.decode(),
            date,
        )
        yield request

    def response_is_signed(self, response: httpx.Response) -> bool:
        date, given = response.headers.get("x-date"), response.headers.get("x-hash")
        if not date or not given:
            return False
        request = response.request
        expected = request_signature(
            self.secret.get_secret_value(),
            self.public_key,
            request.method,
            request.url.raw_path.decode("ascii"),
            response.content.decode(),
            date,
        )
        return expected == given.lower()


def _developer_message(body: Any) -> str:
    if isinstance(body, dict) and body.get("developermessage"):
        return f"{body.get('code', '')} {body['developermessage']}".strip()
    return str(body)[:200] if body else "no explanation"


class CcvClient:
    def __init__(
        self,
        shop_url: str,
        public_key: str,
        secret: SecretStr,
        *,
        page_size: int = 100,
        get_budget: int = 140,
        write_budget: int = 90,
        budget_window_seconds: float = 60.0,
        timeout_seconds: float = 10.0,
        max_attempts: int = 4,
        verify_response_signatures: bool = True,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.root = api_root(shop_url)
        self.public_key = public_key
        self.page_size = page_size
        self.verify_response_signatures = verify_response_signatures
        self._auth = CcvAuth(public_key, secret)
        http = httpx.AsyncClient(
            auth=self._auth,
            timeout=timeout_seconds,
            transport=transport,
            headers={"accept": "application/json"},
        )
        self.http = BudgetedPolicyClient(
            http,
            name="ccvshop",
            budget=RequestBudget(
                get_budget, write_budget, budget_window_seconds, rate_limit_resource
            ),
            max_attempts=max_attempts,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    def _url(self, path_or_url: str) -> str:
        """An absolute URL on our API root; links CCV returns keep only path and query,
        so a `next` link naming another host of the same shop is still signed right."""
        if path_or_url.startswith(("http://", "https://")):
            parts = urlsplit(path_or_url)
            path_or_url = parts.path + (f"?{parts.query}" if parts.query else "")
            origin = self.root.removesuffix(API_PREFIX)
            return origin + path_or_url
        return self.root + path_or_url

    async def _call(self, method: str, path_or_url: str, body: Any = None) -> Any:
        url = self._url(path_or_url)
        content = None if body is None else json.dumps(body).encode()
        headers = {"content-type": "application/json"} if content is not None else None
        try:
            response = await self.http.request(method, url, content=content, headers=headers)
        except CredentialsError as error:
            raise CredentialsError(
                f"CCV Shop refused API key {self.public_key} for {self.root}"
                f" (HTTP {error.status}: {_developer_message(error.body)})",
                status=error.status,
                body=error.body,
            ) from error
        if self.verify_response_signatures and not self._auth.response_is_signed(response):
            raise ResponseSignatureError(
                f"ccvshop {method} {url}: the response's x-hash does not match its body",
                status=response.status_code,
            )
        return parse_json(response.content) if response.content else None

    async def _pages(self, path: str, params: dict[str, Any]) -> AsyncIterator[CcvJson]:
        query = httpx.QueryParams({**params, "start": 0, "size": self.page_size})
        link: str | None = f"{path}?{query}"
        while link:
            page = await self._call("GET", link)
            for item in page.get("items", []):
                yield item
            link = page.get("next")

    # --- orders -------------------------------------------------------------

    async def order(self, order_id: int) -> CcvJson | None:
        """The order, or None when CCV has no (longer an) order with this id."""
        try:
            order: CcvJson = await self._call("GET", f"/orders/{order_id}")
        except PermanentError as error:
            if error.status == 404:
                return None
            raise
        return order

    async def order_rows(self, order_id: int) -> list[CcvJson]:
        """All rows: they are a separate, paged resource (§3)."""
        return [row async for row in self._pages(f"/orders/{order_id}/orderrows", {})]

    def orders(self, **filters: Any) -> AsyncIterator[CcvJson]:
        """Completed orders matching the list filters of §7, page by page."""
        return self._pages("/orders", {k: v for k, v in filters.items() if v is not None})

    # --- webhooks -----------------------------------------------------------

    async def webhooks(self) -> list[CcvJson]:
        return [hook async for hook in self._pages("/webhooks", {})]

    async def create_webhook(self, event: str, address: str) -> CcvJson | None:
        """The new webhook with its key; None when CCV answered without a body."""
        created: CcvJson | None = await self._call(
            "POST", "/webhooks", {"event": event, "address": address, "is_active": True}
        )
        return created

    async def activate_webhook(self, webhook_id: int, address: str) -> None:
        await self._call(
            "PATCH", f"/webhooks/{webhook_id}", {"address": address, "is_active": True}
        )

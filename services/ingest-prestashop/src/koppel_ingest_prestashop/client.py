"""The PrestaShop Webservice client: the key as HTTP Basic user with an empty password,
JSON through `output_format=JSON`, lists paged with `limit=offset,n` (prestashop.md §1–§5).

- Retries and classification are the chassis' `PolicyClient` (through the runtime's
  budgeted variant): timeouts, network errors, 5xx and 429 are retried with backoff.
  PrestaShop's own refusals are told apart by their error codes: 401 (bad or inactive
  key, codes 17–21; a resource the key may not use, 26) and 403 (the key is not allowed
  on this shop, 132) and 405 code 25 (the key lacks the GET right on a resource) are
  `CredentialsError`s — the connection cannot work until the merchant fixes the key;
  503 code 22 (the webservice is switched off) is not retried: it stays off until the
  merchant switches it on, the next poll looks again.
- PrestaShop has no rate limit of its own (§11); hosting providers and firewalls have one
  per client, over all resources: one request budget per connection, every attempt counts.
- JSON is parsed with Decimal for every number; the key is never part of a URL or a log.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx
from koppel_chassis import CredentialsError, PermanentError, TransientError
from koppel_ingest import BudgetedPolicyClient, RequestBudget
from pydantic import SecretStr

from .webservice import Json, api_root, error_codes, error_text, items, parse_json

CREDENTIAL_CODES = {
    17: "the key is empty",
    18: "the key is not 32 characters long",
    20: "the key is unknown or not active",
    21: "the key has no permissions",
    26: "the key may not use this resource",
    132: "the key is not allowed on this shop",
}


class WebserviceDisabled(PermanentError):
    """503 code 22: the merchant switched the webservice off (Advanced parameters >
    Webservice). Not retried; the next poll looks again."""


class NotTheWebservice(PermanentError):
    """The address answered, but not as PrestaShop's webservice (HTML, a redirect)."""


class WebserviceHttp(BudgetedPolicyClient):
    """The chassis policy, with PrestaShop's error codes read before giving up or retrying."""

    async def send_once(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return await super().send_once(method, url, **kwargs)
        except TransientError as error:
            if error.status == 503 and 22 in error_codes(error.body):
                raise WebserviceDisabled(
                    f"prestashop {method} {url}: the webservice is disabled (code 22)",
                    status=503,
                    body=error.body,
                ) from error
            raise
        except PermanentError as error:
            if error.status == 405 and 25 in error_codes(error.body):
                raise CredentialsError(
                    f"prestashop {method} {url}: the key lacks the {method} right (code 25)",
                    status=405,
                    body=error.body,
                ) from error
            raise


def whole_budget(_: str) -> str:
    """Hosting limits count every request of a client, whatever the resource."""
    return "webservice"


class PrestashopClient:
    def __init__(
        self,
        shop_url: str,
        key: SecretStr,
        *,
        page_size: int = 100,
        budget: int = 300,
        budget_window_seconds: float = 60.0,
        timeout_seconds: float = 15.0,
        max_attempts: int = 4,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.root = api_root(shop_url)
        self.page_size = page_size
        http = httpx.AsyncClient(
            auth=httpx.BasicAuth(key.get_secret_value(), ""),
            timeout=timeout_seconds,
            transport=transport,
            headers={"accept": "application/json"},
        )
        self.http = WebserviceHttp(
            http,
            name="prestashop",
            budget=RequestBudget(budget, budget, budget_window_seconds, whole_budget),
            max_attempts=max_attempts,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _get(self, path: str, params: Mapping[str, str]) -> Any:
        url = f"{self.root}/{path}"
        query = {**params, "output_format": "JSON"}
        try:
            response = await self.http.request("GET", url, params=query)
        except CredentialsError as error:
            raise CredentialsError(
                f"PrestaShop at {self.root} refused the webservice key for {path}"
                f" (HTTP {error.status}: {_refusal(error.body)})",
                status=error.status,
                body=error.body,
            ) from error
        if response.status_code != 200:
            raise NotTheWebservice(
                f"prestashop GET {url}: HTTP {response.status_code}"
                f" (to {response.headers.get('location', '?')})",
                status=response.status_code,
            )
        try:
            return parse_json(response.content)
        except ValueError:
            kind = response.headers.get("content-type", "?").split(";")[0]
            raise NotTheWebservice(
                f"prestashop GET {url}: answered {kind}, not the webservice's JSON",
                status=response.status_code,
            ) from None

    async def get(
        self, resource: str, object_id: int, *, display: str | None = None
    ) -> Json | None:
        """One object, or None when the shop has none with this id (404, empty body)."""
        params = {"display": display} if display else {}
        try:
            body = await self._get(f"{resource}/{object_id}", params)
        except PermanentError as error:
            if error.status == 404:
                return None
            raise
        found = items(body, resource)
        return found[0] if found else None

    async def objects(
        self,
        resource: str,
        *,
        filters: Mapping[str, str] | None = None,
        display: str = "full",
        sort: str | None = None,
        dates: bool = False,
    ) -> AsyncIterator[Json]:
        """Every object matching the filters, page by page (there is no total and no next
        link: a page shorter than asked is the last, §3)."""
        params = {f"filter[{name}]": value for name, value in (filters or {}).items()}
        params["display"] = display
        if sort:
            params["sort"] = sort
        if dates:
            params["date"] = "1"
        plural = "order_slips" if resource == "order_slip" else resource
        offset = 0
        while True:
            params["limit"] = f"{offset},{self.page_size}"
            page = items(await self._get(resource, params), plural)
            for item in page:
                yield item
            if len(page) < self.page_size:
                return
            offset += self.page_size

    async def all(self, resource: str, **query: Any) -> list[Json]:
        return [item async for item in self.objects(resource, **query)]


def _refusal(body: Any) -> str:
    codes = error_codes(body)
    known = [CREDENTIAL_CODES[c] for c in codes if c in CREDENTIAL_CODES]
    if known:
        return "; ".join(known)
    if isinstance(body, str) and body.strip().startswith("401"):
        return "the shop did not receive a key (the server drops the Authorization header)"
    return error_text(body)

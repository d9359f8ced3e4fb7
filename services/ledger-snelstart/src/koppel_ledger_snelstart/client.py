"""The SnelStart B2B API v2 client: tokens, both auth headers, limits, error codes.

On top of the chassis `PolicyClient` (retries of reads on transient errors, the
classification of every error). SnelStart specifics (notes §2, §9–§11):

- the merchant's koppelsleutel is exchanged for a bearer token at the token server
  (another host than the API); tokens live ~1 hour and are renewed shortly before;
- every API call also carries Koppel's subscription key (`Ocp-Apim-Subscription-Key`);
- a refused koppelsleutel (400 from the token server) is the merchant's: a
  `CredentialsError` holds the connection. A 401 from the API is retried once with a
  fresh token; if a fresh token is still refused, the koppelsleutel is fine (the token
  server just accepted it) and the subscription key is what SnelStart refuses: Koppel's
  fault, not the merchant's — a `TransientError` (retried later, logged as an error for
  the operator) instead of a hold;
- calls per minute and at once are limited per administration (SnelStart's tiers);
- writes are sent once (the runtime looks a booking up before any second attempt);
- business errors come as a list of `{errorCode, message}` (`error_codes()`).

The koppelsleutel and the subscription key are decrypted only to be sent, never logged.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from koppel_chassis import (
    CredentialsError,
    ExternalError,
    PermanentError,
    PolicyClient,
    SecretBox,
    TransientError,
)
from koppel_chassis.jsonnum import dumps_bytes, loads
from koppel_contracts import ConnectionSettings
from koppel_ledger import LedgerMetrics, SettingsIncomplete, operation
from koppel_ledger.metrics import call_hooks

log = logging.getLogger(__name__)

REAL_API_HOST = "b2bapi.snelstart.nl"
REAL_TOKEN_URL = "https://auth.snelstart.nl/b2b/token"
MAX_TOP = 500


def error_codes(error: ExternalError) -> list[str]:
    """SnelStart's documented error codes in a refusal (`BOE-0021`, …), in order."""
    body = error.body
    if isinstance(body, list):
        return [str(item.get("errorCode")) for item in body if isinstance(item, dict)]
    return []


def snelstart_message(error: ExternalError) -> str:
    """SnelStart's own words from any of its three error shapes (notes §10)."""
    body = error.body
    if isinstance(body, list):
        texts = [
            f"{item.get('errorCode')}: {item.get('message')}"
            for item in body
            if isinstance(item, dict)
        ]
        if texts:
            return "; ".join(texts)
    if isinstance(body, dict):
        for key in ("message", "Message", "error_description", "error"):
            if body.get(key):
                return str(body[key])
    if isinstance(body, str) and body.strip():
        return body.strip()[:300]
    return str(error)


def odata_text(value: str) -> str:
    """A string literal for `$filter`: apostrophes doubled (notes §5.1)."""
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class SnelStartAccount:
    """One administration: where, and the encrypted koppelsleutel."""

    base_url: str
    token_url: str
    koppelsleutel: str  # enc:v1:
    fingerprint: str

    @classmethod
    def from_settings(cls, settings: ConnectionSettings, token_url: str | None) -> SnelStartAccount:
        ledger = settings.ledger
        key = ledger.credentials.get("koppelsleutel")
        if not key:
            raise SettingsIncomplete("ledger.credentials lacks the koppelsleutel")
        base_url = str(ledger.base_url).rstrip("/")
        if not base_url.endswith("/v2"):
            base_url += "/v2"
        parts = urlsplit(base_url)
        if token_url is None:
            origin = f"{parts.scheme}://{parts.netloc}"
            token_url = REAL_TOKEN_URL if parts.hostname == REAL_API_HOST else origin + "/b2b/token"
        fingerprint = hashlib.sha256(f"{base_url}|{token_url}|{key}".encode()).hexdigest()[:16]
        return cls(base_url, token_url, key, fingerprint)

    @property
    def administration_key(self) -> str:
        """Identifies the administration for caches (the koppelsleutel's hash, not the key)."""
        return self.fingerprint


@dataclass(frozen=True)
class ClientOptions:
    timeout_seconds: float = 20.0
    max_attempts: int = 3
    max_retry_seconds: float = 10.0
    initial_backoff: float = 0.5
    max_backoff: float = 4.0
    requests_per_minute: float = 500.0
    concurrent_requests: int = 5
    token_renew_seconds: float = 60.0


class SnelStartClient:
    def __init__(
        self,
        account: SnelStartAccount,
        secrets: SecretBox,
        subscription_key: str,
        *,
        options: ClientOptions,
        metrics: LedgerMetrics | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.account = account
        self._secrets = secrets
        self._subscription_key = subscription_key
        self.options = options
        self._monotonic = monotonic
        self.http = PolicyClient(
            httpx.AsyncClient(
                base_url=account.base_url,
                timeout=httpx.Timeout(options.timeout_seconds),
                headers={"Accept": "application/json"},
                transport=transport,
                event_hooks=call_hooks(metrics),
            ),
            name="snelstart",
            max_attempts=options.max_attempts,
            max_retry_seconds=options.max_retry_seconds,
            initial_backoff=options.initial_backoff,
            max_backoff=options.max_backoff,
            requests_per_second=options.requests_per_minute / 60,
        )
        self._at_once = asyncio.Semaphore(options.concurrent_requests)
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock = asyncio.Lock()
        # A refused koppelsleutel is not tried again by this client (see the Octopus client:
        # orders of a batch waiting for the lock fail with it; the runtime then drops the
        # client, and new settings or "Verwerk" get a fresh one).
        self._refused: CredentialsError | None = None

    async def aclose(self) -> None:
        await self.http.aclose()

    def drop_token(self) -> None:
        self._token, self._token_expires = None, 0.0

    # ---- tokens ---------------------------------------------------------------------------

    async def _fetch_token(self) -> None:
        key = self._secrets.decrypt(self.account.koppelsleutel).get_secret_value()
        try:
            with operation("token"):
                response = await self.http.request(
                    "POST",
                    self.account.token_url,
                    data={"grant_type": "clientkey", "clientkey": key},
                )
        except (PermanentError, CredentialsError) as error:
            # Any 4xx from the token server: the koppelsleutel is not (any longer) valid.
            raise CredentialsError(
                f"SnelStart refused the koppelsleutel: {snelstart_message(error)}",
                status=error.status,
                body=error.body,
            ) from None
        body = loads(response.content)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not token:
            raise TransientError("SnelStart answered without an access token")
        lifetime = float(body.get("expires_in") or 3599)
        self._token = str(token)
        self._token_expires = self._monotonic() + lifetime - self.options.token_renew_seconds

    async def _bearer(self, refused: str | None = None) -> str:
        async with self._token_lock:
            if self._refused is not None:
                raise self._refused
            stale = self._token is None or self._monotonic() >= self._token_expires
            if stale or (refused is not None and refused == self._token):
                try:
                    await self._fetch_token()
                except CredentialsError as error:
                    self._refused = error
                    raise
            assert self._token is not None
            return self._token

    # ---- calls ----------------------------------------------------------------------------

    async def call(
        self,
        name: str,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        retry: bool = True,
    ) -> Any:
        """One API call; returns the parsed JSON (numbers as Decimal)."""
        kwargs: dict[str, Any] = {"params": params or None}
        if body is not None:
            kwargs["content"] = dumps_bytes(body)
        token = await self._bearer()
        for second_try in (False, True):
            headers = {
                "Authorization": f"Bearer {token}",
                "Ocp-Apim-Subscription-Key": self._subscription_key,
            }
            if body is not None:
                headers["Content-Type"] = "application/json"
            try:
                async with self._at_once:
                    with operation(name):
                        send = self.http.request if retry else self.http.send_once
                        response = await send(method, path, headers=headers, **kwargs)
            except CredentialsError as error:
                if error.status == 403:
                    # The token lacks the operation's scope: the merchant's koppeling misses a
                    # right (notes §2.2).
                    raise CredentialsError(
                        f"SnelStart refused {name} (missing right): {snelstart_message(error)}",
                        status=403,
                        body=error.body,
                    ) from None
                if second_try:
                    log.error(
                        "SnelStart refuses a fresh token: Koppel's subscription key is not "
                        "accepted (check KOPPEL_LEDGER_SNELSTART_SUBSCRIPTION_KEY)",
                        extra={"op": name},
                    )
                    raise TransientError(
                        f"{name}: subscription key refused ({snelstart_message(error)})",
                        status=401,
                    ) from None
                token = await self._bearer(refused=token)
                continue
            except ExternalError as error:
                raise type(error)(
                    f"{name}: HTTP {error.status or '-'} {snelstart_message(error)}",
                    status=error.status,
                    retry_after=error.retry_after,
                    body=error.body,
                ) from error
            return loads(response.content) if response.content else None
        raise AssertionError("unreachable")  # pragma: no cover

    async def pages(self, name: str, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Every row of an OData list: `$skip`/`$top` until a short page (no metadata)."""
        rows: list[dict[str, Any]] = []
        while True:
            page = await self.call(
                name, "GET", path, params={**params, "$top": MAX_TOP, "$skip": len(rows)}
            )
            page = page if isinstance(page, list) else []
            rows.extend(page)
            if len(page) < MAX_TOP:
                return rows

    # ---- resources ------------------------------------------------------------------------

    async def company_info(self) -> dict[str, Any]:
        return await self.call("company_info", "GET", "/companyInfo") or {}

    async def ledger_accounts(self) -> list[dict[str, Any]]:
        return await self.pages("grootboeken", "/grootboeken", {})

    async def vat_rates(self) -> list[dict[str, Any]]:
        return await self.call("btwtarieven", "GET", "/btwtarieven") or []

    async def countries(self) -> list[dict[str, Any]]:
        return await self.call("landen", "GET", "/landen") or []

    async def relations(self, odata_filter: str) -> list[dict[str, Any]]:
        found = await self.call(
            "relaties", "GET", "/relaties", params={"$filter": odata_filter, "$top": 1}
        )
        return found if isinstance(found, list) else []

    async def create_relation(self, relation: dict[str, Any]) -> dict[str, Any]:
        return await self.call("create_relatie", "POST", "/relaties", body=relation, retry=False)

    async def create_booking(self, booking: dict[str, Any]) -> dict[str, Any]:
        return await self.call(
            "create_verkoopboeking", "POST", "/verkoopboekingen", body=booking, retry=False
        )

    async def update_booking(self, booking_id: str, booking: dict[str, Any]) -> dict[str, Any]:
        return await self.call(
            "update_verkoopboeking",
            "PUT",
            f"/verkoopboekingen/{booking_id}",
            body=booking,
            retry=False,
        )

    async def booking(self, booking_id: str) -> dict[str, Any] | None:
        try:
            return await self.call("get_verkoopboeking", "GET", f"/verkoopboekingen/{booking_id}")
        except PermanentError as error:
            if error.status == 404:
                return None
            raise

    async def invoices_numbered(self, number: str) -> list[dict[str, Any]]:
        """The verkoopfactuur of a factuurnummer (each booking has one): the only way to
        look a booking up by its number (there is no list of bookings, notes §4)."""
        found = await self.call(
            "verkoopfacturen",
            "GET",
            "/verkoopfacturen",
            params={"$filter": f"Factuurnummer eq {odata_text(number)}"},
        )
        return found if isinstance(found, list) else []

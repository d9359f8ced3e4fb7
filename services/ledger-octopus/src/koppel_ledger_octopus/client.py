"""The Octopus Webservice client: tokens, error classification, call counting.

On top of the chassis `PolicyClient` (retries with backoff on transient errors,
classification of every error). Octopus specifics handled here:

- two tokens (auth token, then a dossier token), both valid 10 minutes, renewed
  a little before they expire; a 401 on a dossier call drops both and logs in
  again once — a 401 after a fresh login, or a refused login, is a
  `CredentialsError` (the connection is held until new settings arrive);
- a 403 on a dossier call is not about credentials in Octopus (closed journal, journal
  in use, invoicing module off): it stays a `PermanentError` with status 403, and the
  adapter asks Octopus which it is (the wording of its messages is undocumented);
- writes that create something are sent once (no blind retry): the caller
  looks the document up before trying again, so a lost response never
  becomes a second invoice;
- every call is counted per operation (Prometheus) and per order being booked
  (`koppel_ledger.metrics`), because Octopus' daily quotas are low.

Credentials are decrypted only when logging in and never logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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
from koppel_ledger import LedgerMetrics, operation
from koppel_ledger.metrics import call_hooks
from pydantic import SecretStr

if TYPE_CHECKING:
    from .account import OctopusAccount

log = logging.getLogger(__name__)

JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"}


@dataclass(frozen=True)
class ClientOptions:
    timeout_seconds: float = 20.0
    max_attempts: int = 3
    max_retry_seconds: float = 10.0
    initial_backoff: float = 0.5
    max_backoff: float = 4.0
    token_lifetime_seconds: float = 540.0


def octopus_message(error: ExternalError) -> str:
    """Octopus' own words from an error body `{errorCode, errorMessage, technicalInfo}`."""
    body = error.body
    if isinstance(body, dict):
        for key in ("errorMessage", "message", "description", "error"):
            if body.get(key):
                return str(body[key])
    if isinstance(body, str) and body.strip():
        return body.strip()[:300]
    return str(error)


class OctopusClient:
    """One dossier of one connection. Created per connection, cached by the registry."""

    def __init__(
        self,
        account: OctopusAccount,
        secrets: SecretBox,
        *,
        options: ClientOptions,
        metrics: LedgerMetrics | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.account = account
        self.dossier_id = account.dossier_id
        self._secrets = secrets
        self.options = options
        self.metrics = metrics
        self._monotonic = monotonic
        self.http = PolicyClient(
            httpx.AsyncClient(
                base_url=account.base_url,
                timeout=httpx.Timeout(options.timeout_seconds),
                headers=JSON_HEADERS,
                transport=transport,
                event_hooks=call_hooks(metrics),
            ),
            name="octopus",
            max_attempts=options.max_attempts,
            max_retry_seconds=options.max_retry_seconds,
            initial_backoff=options.initial_backoff,
            max_backoff=options.max_backoff,
        )
        self._dossier_token: str | None = None
        self._token_expires = 0.0
        self._login_lock = asyncio.Lock()
        # A refused login is not tried again by this client: orders that waited for the
        # lock meanwhile (a batch books a connection's orders side by side) fail with it
        # instead of each costing the merchant's account a failed login. The runtime drops
        # the client on a credentials failure; new settings or "Verwerk" get a fresh one.
        self._refused: CredentialsError | None = None

    async def aclose(self) -> None:
        await self.http.aclose()

    # --- plumbing ---------------------------------------------------------------

    async def _send(
        self, name: str, method: str, url: str, *, retry: bool, **kwargs: Any
    ) -> httpx.Response:
        with operation(name):
            send = self.http.request if retry else self.http.send_once
            return await send(method, url, **kwargs)

    def drop_tokens(self) -> None:
        self._dossier_token = None
        self._token_expires = 0.0

    async def login(self) -> None:
        """Both tokens: POST /authentication, then POST /dossiers (connect the dossier)."""
        self.drop_tokens()
        box = self._secrets
        try:
            response = await self._send(
                "authenticate",
                "POST",
                "/authentication",
                retry=True,
                headers={
                    "softwareHouseUuid": _plain(box.decrypt(self.account.software_house_uuid))
                },
                content=dumps_bytes(
                    {
                        "user": _plain(box.decrypt(self.account.username)),
                        "password": _plain(box.decrypt(self.account.password)),
                    }
                ),
            )
        except CredentialsError as error:
            raise CredentialsError(
                f"Octopus refused the login: {octopus_message(error)}",
                status=error.status,
                body=error.body,
            ) from None
        except PermanentError as error:
            # A 400 on the login call means the credentials themselves are unusable.
            raise CredentialsError(
                f"Octopus refused the login: {octopus_message(error)}",
                status=error.status,
                body=error.body,
            ) from None
        auth_token = _field(loads(response.content), "token")
        try:
            response = await self._send(
                "connect_dossier",
                "POST",
                "/dossiers",
                retry=True,
                params={"dossierId": self.dossier_id, "localeId": 1},
                headers={"Token": auth_token},
            )
        except (CredentialsError, PermanentError) as error:
            raise CredentialsError(
                f"Octopus refused access to dossier {self.dossier_id}: {octopus_message(error)}",
                status=error.status,
                body=error.body,
            ) from None
        body = loads(response.content)
        self._dossier_token = _field(body, "Dossiertoken", "dossiertoken", "dossierToken")
        self._token_expires = self._monotonic() + self.options.token_lifetime_seconds

    async def _token(self, refused: str | None = None) -> str:
        """A valid dossier token; logs in when there is none, it is old, or it was refused."""
        async with self._login_lock:
            if self._refused is not None:
                raise self._refused
            stale = self._dossier_token is None or self._monotonic() >= self._token_expires
            if stale or (refused is not None and self._dossier_token == refused):
                try:
                    await self.login()
                except CredentialsError as error:
                    self._refused = error
                    raise
            assert self._dossier_token is not None
            return self._dossier_token

    async def call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        retry: bool = True,
    ) -> Any:
        """A dossier call (`path` below /dossiers/{id}); returns the parsed JSON (Decimals)."""
        url = f"/dossiers/{self.dossier_id}{path}"
        kwargs: dict[str, Any] = {"params": params or None}
        if body is not None:
            kwargs["content"] = dumps_bytes(body)
        token = await self._token()
        for second_try in (False, True):
            try:
                response = await self._send(
                    operation, method, url, retry=retry, headers={"dossierToken": token}, **kwargs
                )
            except CredentialsError as error:
                if error.status == 403:
                    # Not about credentials in Octopus: the adapter asks what it is.
                    raise PermanentError(
                        f"{operation}: HTTP 403 {octopus_message(error)}",
                        status=403,
                        body=error.body,
                    ) from None
                if second_try:
                    raise CredentialsError(
                        f"Octopus refused a fresh token for {operation}: {octopus_message(error)}",
                        status=error.status,
                        body=error.body,
                    ) from None
                log.info("octopus token refused; logging in again", extra={"op": operation})
                token = await self._token(refused=token)
                continue
            except ExternalError as error:
                raise _worded(operation, error) from error
            return loads(response.content) if response.content else None
        raise AssertionError("unreachable")  # pragma: no cover

    # --- reference data ------------------------------------------------------------

    async def bookyears(self) -> list[dict[str, Any]]:
        return _as_list(await self.call("bookyears", "GET", "/bookyears"))

    async def journals(self, bookyear_id: int) -> list[dict[str, Any]]:
        return _as_list(await self.call("journals", "GET", f"/bookyears/{bookyear_id}/journals"))

    async def vat_codes(self) -> list[dict[str, Any]]:
        return _as_list(await self.call("vat_codes", "GET", "/vatcodes"))

    async def accounts(self, bookyear_id: int) -> list[dict[str, Any]]:
        return _as_list(
            await self.call("accounts", "GET", "/accounts", params={"bookyearId": bookyear_id})
        )

    # --- relations ---------------------------------------------------------------------

    async def relations_modified(self, since: str) -> list[dict[str, Any]]:
        return _as_list(
            await self.call(
                "relations_modified",
                "GET",
                "/relations/modified",
                params={"modifiedTimeStamp": since},
            ),
            "modified",
            "modifiedRelations",
            "relations",
        )

    async def relations_by_external_id(self, external_id: int) -> list[dict[str, Any]]:
        return _as_list(
            await self.call("relations", "GET", "/relations", params={"extRelationId": external_id})
        )

    async def relations_by_id(self, relation_id: int) -> list[dict[str, Any]]:
        return _as_list(
            await self.call("relations", "GET", "/relations", params={"relationId": relation_id})
        )

    async def put_relation(self, relation: dict[str, Any]) -> Any:
        return await self.call("put_relation", "PUT", "/relations", body=relation, retry=False)

    # --- documents -------------------------------------------------------------------

    async def create_invoice(self, invoice: dict[str, Any]) -> Any:
        return await self.call("create_invoice", "POST", "/invoices", body=invoice, retry=False)

    async def update_invoice(self, invoice: dict[str, Any]) -> Any:
        return await self.call("update_invoice", "PUT", "/invoices", body=invoice, retry=False)

    async def invoices(self, **params: Any) -> list[dict[str, Any]]:
        return _as_list(await self.call("get_invoices", "GET", "/invoices", params=params))

    async def invoices_modified(self, **params: Any) -> list[dict[str, Any]]:
        return _as_list(
            await self.call("invoices_modified", "GET", "/invoices/modified", params=params),
            "modifiedInvoices",
            "modified",
            "invoices",
        )

    async def create_financial(self, booking: dict[str, Any]) -> Any:
        return await self.call(
            "create_financial", "POST", "/financialdiversbookings", body=booking, retry=False
        )

    async def create_sales(self, booking: dict[str, Any]) -> Any:
        return await self.call(
            "create_sales", "POST", "/buysellbookings", body=booking, retry=False
        )

    async def buysell_bookings(self, **params: Any) -> list[dict[str, Any]]:
        """Booked sales documents (a concept invoice that was booked is one of these)."""
        return _as_list(
            await self.call("get_buysell", "GET", "/buysellbookings", params=params),
            "buySellBookings",
            "bookings",
        )

    async def financial_bookings(self, **params: Any) -> list[dict[str, Any]]:
        return _as_list(
            await self.call("get_financial", "GET", "/financialdiversbookings", params=params),
            "financialDiversBookings",
            "bookings",
        )


def _plain(secret: SecretStr) -> str:
    return secret.get_secret_value()


def _field(body: Any, *names: str) -> str:
    if isinstance(body, dict):
        for name in names:
            if body.get(name):
                return str(body[name])
    raise TransientError(f"Octopus answered without {names[0]}", body=None)


def _as_list(body: Any, *wrappers: str) -> list[dict[str, Any]]:
    """Octopus lists come bare or wrapped (e.g. `{"modifiedBookings": [...]}`)."""
    if body is None:
        return []
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        for key in wrappers:
            if isinstance(body.get(key), list):
                return body[key]
        lists = [v for v in body.values() if isinstance(v, list)]
        if len(lists) == 1:
            return lists[0]
    raise PermanentError(f"unexpected Octopus list shape: {type(body).__name__}")


def _worded(operation: str, error: ExternalError) -> ExternalError:
    """The same kind of error, with Octopus' own message in it (for logs and failures)."""
    worded = type(error)(
        f"{operation}: HTTP {error.status or '-'} {octopus_message(error)}",
        status=error.status,
        retry_after=error.retry_after,
        body=error.body,
    )
    return worded

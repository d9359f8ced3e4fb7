"""The Octopus Webservice client: tokens, error classification, call counting.

On top of the chassis `PolicyClient` (retries with backoff on transient errors,
classification of every error). Octopus specifics handled here:

- two tokens (auth token, then a dossier token), both valid 10 minutes, renewed
  a little before they expire; a 401 on a dossier call drops both and logs in
  again once — a 401 after a fresh login, or a refused login, is a
  `CredentialsError` (the connection is held until new settings arrive);
- a 403 on a dossier call is not about credentials in Octopus (closed journal,
  journal in use): permanent, or transient when the journal is merely in use;
- writes that create something are sent once (no blind retry): the caller
  looks the document up before trying again, so a lost response never
  becomes a second invoice;
- every call is counted per operation (Prometheus) and per order being booked
  (`CallMeter`), because Octopus' daily quotas are low.

Credentials are decrypted only when logging in and never logged.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from koppel_chassis import (
    CredentialsError,
    ExternalError,
    PermanentError,
    PolicyClient,
    SecretBox,
    TransientError,
)
from koppel_contracts import ConnectionSettings
from prometheus_client import CollectorRegistry, Counter, Histogram
from pydantic import SecretStr

from .jsonnum import dumps_bytes, loads

log = logging.getLogger(__name__)

JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"}


class SettingsIncomplete(ValueError):
    """The connection settings lack something Octopus needs (dossier, credentials)."""


@dataclass(frozen=True)
class OctopusAccount:
    """Where and as whom to log in. Secrets stay encrypted until `login`."""

    base_url: str
    dossier_id: int
    software_house_uuid: str
    username: str
    password: str
    fingerprint: str

    @property
    def dossier_key(self) -> str:
        """Identifies the dossier (not the login): caches of its data are keyed by this."""
        return hashlib.sha256(f"{self.base_url}|{self.dossier_id}".encode()).hexdigest()[:16]

    @classmethod
    def from_settings(cls, settings: ConnectionSettings) -> OctopusAccount:
        ledger = settings.ledger
        missing = [
            k
            for k in ("software_house_uuid", "username", "password")
            if k not in ledger.credentials
        ]
        if missing:
            raise SettingsIncomplete(f"ledger.credentials lacks {', '.join(missing)}")
        if not ledger.dossier_id or not ledger.dossier_id.strip().isdigit():
            raise SettingsIncomplete("ledger.dossier_id must be the numeric Octopus dossier id")
        creds = ledger.credentials
        base_url = str(ledger.base_url).rstrip("/")
        fingerprint = hashlib.sha256(
            "|".join(
                [
                    base_url,
                    ledger.dossier_id,
                    creds["software_house_uuid"],
                    creds["username"],
                    creds["password"],
                ]
            ).encode()
        ).hexdigest()[:16]
        return cls(
            base_url=base_url,
            dossier_id=int(ledger.dossier_id),
            software_house_uuid=creds["software_house_uuid"],
            username=creds["username"],
            password=creds["password"],
            fingerprint=fingerprint,
        )


# --- counting calls ----------------------------------------------------------

_meter: contextvars.ContextVar[CallMeter | None] = contextvars.ContextVar(
    "octopus_call_meter", default=None
)
_operation: contextvars.ContextVar[str] = contextvars.ContextVar(
    "octopus_operation", default="other"
)


@dataclass
class CallMeter:
    """Octopus calls made while one order was being worked on."""

    calls: int = 0
    operations: list[str] = field(default_factory=list)

    def count(self, operation: str) -> None:
        self.calls += 1
        self.operations.append(operation)


@contextmanager
def metered() -> Iterator[CallMeter]:
    meter = CallMeter()
    token = _meter.set(meter)
    try:
        yield meter
    finally:
        _meter.reset(token)


class OctopusMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.calls = Counter(
            "koppel_octopus_calls_total",
            "HTTP calls made to Octopus (retries included), by operation",
            ["operation"],
            registry=registry,
        )
        self.responses = Counter(
            "koppel_octopus_responses_total",
            "Responses from Octopus, by operation and HTTP status",
            ["operation", "status"],
            registry=registry,
        )
        self.booking_calls = Counter(
            "koppel_octopus_booking_calls_total",
            "Octopus calls spent on orders that reached a final ledger effect",
            registry=registry,
        )
        self.bookings = Counter(
            "koppel_octopus_bookings_total",
            "Orders whose ledger effect was recorded, by outcome",
            ["status"],
            registry=registry,
        )
        self.calls_per_booking = Histogram(
            "koppel_octopus_calls_per_booking",
            "Octopus calls used to book one order (including its read-back check)",
            buckets=(1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30),
            registry=registry,
        )


# --- the client ---------------------------------------------------------------


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


_IN_USE_MARKERS = ("in use", "in gebruik", "locked", "vergrendeld", "utilis")


class OctopusClient:
    """One dossier of one connection. Created per connection, cached by the registry."""

    def __init__(
        self,
        account: OctopusAccount,
        secrets: SecretBox,
        *,
        options: ClientOptions,
        metrics: OctopusMetrics | None = None,
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
                event_hooks={"request": [self._on_request], "response": [self._on_response]},
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

    async def aclose(self) -> None:
        await self.http.aclose()

    # --- plumbing ---------------------------------------------------------------

    async def _send(
        self, operation: str, method: str, url: str, *, retry: bool, **kwargs: Any
    ) -> httpx.Response:
        token = _operation.set(operation)
        try:
            send = self.http.request if retry else self.http.send_once
            return await send(method, url, **kwargs)
        finally:
            _operation.reset(token)

    async def _on_request(self, request: httpx.Request) -> None:
        # An event hook runs in the task that makes the request, so the meter and the
        # operation name are the ones of the order being worked on — retries included.
        operation = _operation.get()
        meter = _meter.get()
        if meter is not None:
            meter.count(operation)
        if self.metrics is not None:
            self.metrics.calls.labels(operation).inc()

    async def _on_response(self, response: httpx.Response) -> None:
        if self.metrics is not None:
            self.metrics.responses.labels(_operation.get(), str(response.status_code)).inc()

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
            stale = self._dossier_token is None or self._monotonic() >= self._token_expires
            if stale or (refused is not None and self._dossier_token == refused):
                await self.login()
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
                    raise _forbidden(operation, error) from None
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


def _forbidden(operation: str, error: ExternalError) -> ExternalError:
    message = octopus_message(error)
    if any(marker in message.lower() for marker in _IN_USE_MARKERS):
        return TransientError(
            f"{operation}: Octopus journal in use ({message})", status=403, body=error.body
        )
    return PermanentError(f"{operation}: Octopus refused ({message})", status=403, body=error.body)


class ClientRegistry:
    """One `OctopusClient` per connection, replaced when its login or dossier changes."""

    def __init__(
        self,
        secrets: SecretBox,
        options: ClientOptions,
        metrics: OctopusMetrics | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.secrets = secrets
        self.options = options
        self.metrics = metrics
        self.transport = transport
        self._clients: dict[str, OctopusClient] = {}
        self._retired: list[OctopusClient] = []

    def get(self, connection_id: str, settings: ConnectionSettings) -> OctopusClient:
        account = OctopusAccount.from_settings(settings)
        client = self._clients.get(connection_id)
        if client is not None and client.account == account:
            return client
        if client is not None:
            self._retire(client)
        client = OctopusClient(
            account,
            self.secrets,
            options=self.options,
            metrics=self.metrics,
            transport=self.transport,
        )
        self._clients[connection_id] = client
        return client

    def drop(self, connection_id: str) -> None:
        """Forget the client (and its tokens): new settings, or credentials refused."""
        client = self._clients.pop(connection_id, None)
        if client is not None:
            self._retire(client)

    def _retire(self, client: OctopusClient) -> None:
        # Another task may still be mid-call on it: it is closed at shutdown.
        client.drop_tokens()
        self._retired.append(client)

    async def aclose(self) -> None:
        for client in [*self._clients.values(), *self._retired]:
            await client.aclose()
        self._clients.clear()
        self._retired.clear()


def current_meter() -> CallMeter | None:
    return _meter.get()

"""What a shop must provide to the runtime: an adapter (one per service) that opens a
session per connection (its API client and settings), and the session's operations.

Everything else — leased polling, cursors, which order a shop id belongs to, revisions
(amendment, cancellation), the outbox, recorded ingest failures, the connection guard,
webhook plumbing — is the runtime's.

Errors a session raises:
- `koppel_chassis.TransientError` — the shop is unavailable (after the client's own
  retries within its request budget): the order is looked at again by the next poll;
- `koppel_chassis.CredentialsError` — the shop refuses the key: the connection is marked
  broken (one alert) and left alone until new settings arrive;
- `SettingsUnusable(reason_code)` (from `session()`) — the settings cannot work at all
  (no key, an undecryptable secret): the same, with its own reason;
- `OrderUnreadable(detail)` (from `fetch` or `canonical`) or the contracts' pydantic
  `ValidationError` (from `canonical`: the parts do not add up) — an ingest failure is
  recorded with the reason, nothing is published, the poll goes on;
- `koppel_chassis.PermanentError` — anything else the shop refuses: logged, retried by
  the next poll.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from koppel_chassis import SecretBox
from koppel_contracts import (
    CanonicalOrder,
    ConnectionSettings,
    Language,
    OrderSummary,
    ShopSystem,
    SourceSystem,
)
from pydantic import SecretStr

from .records import OrderRecord

# Merchant texts per reason code and language: {"code": {"nl": (reason, suggestion)}}.
Texts = Mapping[str, Mapping[str, tuple[str, str]]]


class OrderUnreadable(ValueError):
    """The shop's order cannot be read as a bookable order; the message says why."""

    def __init__(
        self, detail: str, *, summary: OrderSummary | None = None, number: str | None = None
    ) -> None:
        super().__init__(detail)
        self.summary = summary
        self.number = number or (summary.order_number if summary is not None else None)


class SettingsUnusable(Exception):
    """The connection settings cannot produce a working client (no key, unreadable secret)."""

    def __init__(self, reason_code: str, detail: str) -> None:
        super().__init__(detail)
        self.reason_code = reason_code


def shop_secret(
    settings: ConnectionSettings, box: SecretBox, name: str, *, account: str | None = None
) -> SecretStr:
    """The shop's secret `credentials.<name>`, decrypted; `account`: what the shop calls
    `account_id` when it is needed too (e.g. "CCV public key"). Raises SettingsUnusable
    with the runtime's reason codes, so every shop reports a missing or unreadable secret
    the same way."""
    shop = settings.shop
    if name not in shop.credentials or (account is not None and not shop.account_id):
        needed = f"{account} (account_id) or " if account is not None else ""
        raise SettingsUnusable(
            "shop_credentials_missing", f"the connection has no {needed}credentials.{name}"
        )
    try:
        return box.decrypt(shop.credentials[name])
    except ValueError as error:
        raise SettingsUnusable("shop_secret_unreadable", str(error)) from error


# ---- what a session reports -------------------------------------------------------------


@dataclass(frozen=True)
class ShopOrder:
    """One order as the shop has it now, read by `fetch`. The runtime decides with the
    flags; only the adapter's mapping looks inside `payload`."""

    source_order_id: str
    placed_at: datetime
    bookable: bool  # the connection's trigger holds (chosen per connection)
    cancelled: bool  # cancelled, or refunded entirely
    placed: bool = True  # False: an unfinished checkout, nothing to book (yet)
    order_number: str | None = None
    source_status: str | None = None  # the shop's own status, for the cancellation event
    lookup_key: str | None = None  # how `successor` finds the order's other ids
    fingerprint: str | None = None  # of the list item, as `Candidate.fingerprint`
    summary: OrderSummary | None = None  # enough to recognise the order in an alert
    payload: Any = None


@dataclass(frozen=True)
class Candidate:
    """An order a poll should consider. What the list already tells saves a fetch: an
    order whose list item is unchanged since the last poll is not fetched again. Leave
    a field None when the list does not tell; the order is then fetched."""

    source_order_id: str
    order_number: str | None = None  # recognises a re-issue before fetching it
    fingerprint: str | None = None  # of what, in the list item, shows a change
    bookable: bool | None = None
    cancelled: bool | None = None


@dataclass(frozen=True)
class PollWindow:
    """What the runtime tells a session when it asks for changes."""

    now: datetime
    cursor: str | None  # what `Changes.cursor` said last time (None: the first poll)
    since: datetime  # the oldest placing time worth looking at (window, or when connected)


@dataclass(frozen=True)
class Changes:
    candidates: list[Candidate]
    cursor: str | None = None  # stored once every candidate was looked at
    # Every live order placed since this moment is among the candidates (a full listing):
    # a published order of that period that is missing is re-read (re-issued or removed).
    complete_since: datetime | None = None


@dataclass(frozen=True)
class RegisteredWebhook:
    webhook_id: str
    event: str
    key: SecretStr


# ---- the connection test ----------------------------------------------------------------


@dataclass(frozen=True)
class ShopState:
    """An order state the shop knows; `code` is what goes in `shop.options.trigger_statuses`."""

    code: str
    name: str
    bookable_by_default: bool = False  # the shop itself calls it paid
    flags: tuple[str, ...] = ()  # what else the shop says of it: shipped, cancelled, ...


@dataclass(frozen=True)
class ConnectionCheck:
    """The answer to "does this connection work?", in the merchant's language.

    `problem` is None on success, else one of: `unreachable`, `tls`, `redirected`,
    `not_the_shop_api`, `webservice_disabled`, `credentials_refused`, `permission_missing`,
    `settings_incomplete`, `shop_error` — what is wrong with the URL, its certificate, a
    redirect, the shop's API switch or the key."""

    problem: str | None
    message: str
    suggestion: str = ""
    states: tuple[ShopState, ...] = ()  # on success: the shop's order states
    details: Mapping[str, str] = field(default_factory=dict)  # e.g. the URL tried, the version

    @property
    def ok(self) -> bool:
        return self.problem is None


# ---- the protocols ----------------------------------------------------------------------


class ShopSession(Protocol):
    """One connection's view of its shop (its client, settings and trigger)."""

    async def fetch(self, source_order_id: str) -> ShopOrder | None:
        """The order now (None: the shop has no such order, or no longer). Raises
        OrderUnreadable when it cannot even say when the order was placed."""
        ...

    async def canonical(self, order: ShopOrder) -> CanonicalOrder:
        """Read what the mapping needs (e.g. the order's rows) and map: the adapter's pure
        mapping. Raises OrderUnreadable, or ValidationError when the parts do not add up."""
        ...

    async def changes(self, window: PollWindow) -> Changes:
        """The orders to consider: what changed since `window.cursor`, or everything placed
        since `window.since` for shops that cannot tell what changed."""
        ...

    async def successor(self, record: OrderRecord) -> str | None:
        """Another live id that carries this order now (a re-issue), or None."""
        ...

    def placed_between(self, start: datetime, end: datetime) -> AsyncIterator[str]:
        """Ids of the orders placed in [start, end), oldest first (historic migration)."""
        ...

    async def register_webhooks(self, address: str) -> list[RegisteredWebhook]:
        """Shops with webhooks: make sure the shop delivers to `address`; the webhooks with
        their keys (reused where the shop has them already)."""
        ...


class Webhooks(Protocol):
    """How a shop's webhook deliveries look (no I/O: the runtime receives them)."""

    route: str  # e.g. "/webhooks/ccvshop/{connection_id}"

    def verify(
        self, keys: list[str], body: bytes, address: str, headers: Mapping[str, str]
    ) -> bool: ...

    def announced(self, body: bytes) -> str | None:
        """The order id a delivery announces (None: not an order event). Also read from a
        delivery whose signature failed, to see whether the poll finds that order."""
        ...


class ShopAdapter(Protocol):
    """One shop system."""

    system: ShopSystem
    source_system: SourceSystem
    component: str  # e.g. "ingest-ccv"
    display_name: str  # e.g. "CCV Shop", for the merchant's texts
    texts: Texts  # merged over the runtime's texts
    order_unreadable_code: str  # reason code of an ingest-failure alert
    cancelled_status: str | None  # source status of a cancelled order the shop removed
    # The shop re-issues an edited order under a new id with the same order number (CCV):
    # a new id with a known number is an amendment of that order.
    reissues: bool
    # Orders seen before they were bookable are fetched again on every poll (for shops
    # whose change list does not show them again when they become bookable).
    revisit_unbookable: bool
    webhooks: Webhooks | None  # None: poll only

    async def session(self, connection_id: str, settings: ConnectionSettings) -> ShopSession:
        """The connection's session (kept while what it depends on is unchanged). Raises
        SettingsUnusable when the settings cannot produce a client."""
        ...

    async def drop(self, connection_id: str) -> None:
        """Forget the connection's session (settings changed or removed)."""
        ...

    async def check_connection(
        self, settings: ConnectionSettings, language: Language
    ) -> ConnectionCheck:
        """Does this (possibly not yet saved) connection work? Names what is wrong with the
        URL, TLS, a redirect, the shop's API or the key; lists the order states."""
        ...

    async def aclose(self) -> None: ...


# ---- a session cache every adapter can use ------------------------------------------------

Closer = Callable[[Any], Awaitable[None]]


# How long a replaced or dropped session stays open: work that holds it (a webhook's sync,
# a poll, a migration's page, a connection test) finishes on it instead of failing with
# "the client has been closed" because new settings arrived meanwhile.
RETIRE_AFTER_SECONDS = 120.0


class SessionCache:
    """Sessions per connection, rebuilt when what they depend on changes (the shop URL or
    the key): a session keeps its request budget across unrelated settings changes. A
    session that is replaced or dropped is closed `RETIRE_AFTER_SECONDS` later."""

    def __init__(self, close: Closer) -> None:
        self._close = close
        self._sessions: dict[str, tuple[object, Any]] = {}
        self._retiring: dict[asyncio.Task[None], Any] = {}

    async def get(self, connection_id: str, identity: object, build: Callable[[], Any]) -> Any:
        cached = self._sessions.get(connection_id)
        if cached is not None and cached[0] == identity:
            return cached[1]
        session = build()
        await self.drop(connection_id)
        self._sessions[connection_id] = (identity, session)
        return session

    async def drop(self, connection_id: str) -> None:
        cached = self._sessions.pop(connection_id, None)
        if cached is not None:
            self._retire(cached[1])

    def _retire(self, session: Any) -> None:
        async def later() -> None:
            await asyncio.sleep(RETIRE_AFTER_SECONDS)
            await self._close(session)

        task = asyncio.get_running_loop().create_task(later())
        self._retiring[task] = session
        task.add_done_callback(lambda done: self._retiring.pop(done, None))

    async def aclose(self) -> None:
        """At shutdown every session is closed now, retiring ones too."""
        retiring = list(self._retiring.items())
        self._retiring.clear()
        for task, session in retiring:
            task.cancel()
            await self._close(session)
        for connection_id in list(self._sessions):
            cached = self._sessions.pop(connection_id)
            await self._close(cached[1])

"""bol.com as an adapter of the ingest runtime (`koppel_ingest.ShopAdapter`).

What is bol's own: the OAuth2 client (`client`), what an order tells (`orders`), the
pure mapping with VAT from the connection's tables (`mapping`, `vat`), what a poll
considers (`polling`), the returns it keeps (`returns`), the connection test (`check`),
and these facts the runtime acts on:
- no webhooks: a leased poll per connection lists what changed since its cursor;
- no re-issues: an order keeps its id; `order_ref` is bol's order id;
- bol never removes an order, it stops showing it (handled orders leave the list after
  48 hours, shipments after three months): an order bol no longer shows in detail is
  rebuilt from its shipments, and one without either is not "gone" — nothing is
  cancelled for it (the fetch fails, and is logged);
- no payment state: an order is bookable once placed, unless the connection's trigger
  says `shipped` (see `mapping.Trigger`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from koppel_chassis import PermanentError, SecretBox
from koppel_contracts import (
    CanonicalOrder,
    ConnectionSettings,
    Language,
    ShopOptions,
    ShopSystem,
    SourceSystem,
)
from koppel_ingest import (
    Changes,
    ConnectionCheck,
    OrderRecord,
    PollWindow,
    RegisteredWebhook,
    SessionCache,
    ShopOrder,
    shop_secret,
)

from . import check
from .calls import BolMetrics
from .client import BolClient, BolJson
from .mapping import Trigger, map_order, summary_of
from .orders import BolOrder, read_order, read_shipments
from .polling import Lister
from .returns import ReturnsStore
from .settings import IngestBolSettings
from .texts import ORDER_UNREADABLE, TEXTS

SECRET_NAME = "client_secret"


class BolSession:
    def __init__(
        self,
        connection_id: str,
        client: BolClient,
        options: ShopOptions,
        returns: ReturnsStore,
        overlap: timedelta,
        metrics: BolMetrics | None = None,
    ) -> None:
        self.connection_id = connection_id
        self.client = client
        self.options = options
        self.trigger = Trigger.parse(options.trigger_statuses)
        self.returns = returns
        self.metrics = metrics
        self.lister = Lister(client, returns, connection_id, overlap)

    async def fetch(self, source_order_id: str) -> ShopOrder | None:
        returned = await self.returns.of_order(self.connection_id, source_order_id)
        detail = await self.client.order(source_order_id)
        if detail is not None:
            order = read_order(detail, returned)
        else:
            shipments = await self._shipments_of(source_order_id)
            if not shipments:
                raise PermanentError(
                    f"bol shows neither order {source_order_id} nor a shipment of it"
                )
            order = read_shipments(source_order_id, shipments, returned)
        if self.metrics is not None:
            self.metrics.orders_read.labels(order.source).inc()
        return self.observe(order)

    def observe(self, order: BolOrder) -> ShopOrder:
        return ShopOrder(
            source_order_id=order.order_id,
            placed_at=order.placed_at,
            bookable=self.trigger.holds(order),
            cancelled=order.cancelled,
            order_number=order.order_id,
            source_status=order.status,
            fingerprint=order.changed_at.isoformat() if order.changed_at else None,
            summary=summary_of(order),
            payload=order,
        )

    async def _shipments_of(self, order_id: str) -> list[BolJson]:
        found = []
        async for listed in self.client.shipments(order_id=order_id):
            shipment = await self.client.shipment(str(listed["shipmentId"]))
            if shipment is not None:
                found.append(shipment)
        return found

    async def canonical(self, order: ShopOrder) -> CanonicalOrder:
        bol_order: BolOrder = order.payload
        return map_order(bol_order, self.options)

    async def changes(self, window: PollWindow) -> Changes:
        return await self.lister.changes(window)

    async def successor(self, record: OrderRecord) -> str | None:
        return None  # bol never re-issues an order

    async def placed_between(self, start: datetime, end: datetime) -> AsyncIterator[str]:
        async for order_id in self.lister.placed_between(start, end, datetime.now(UTC)):
            yield order_id

    async def register_webhooks(self, address: str) -> list[RegisteredWebhook]:
        return []  # bol has no webhooks for orders


def client_identity(settings: ConnectionSettings) -> tuple[str, str, str]:
    shop = settings.shop
    return (str(shop.base_url), shop.account_id or "", shop.credentials.get(SECRET_NAME, ""))


class BolAdapter:
    system = ShopSystem.BOL
    source_system = SourceSystem.BOL
    component = "ingest-bol"
    display_name = "bol.com"
    texts = TEXTS
    order_unreadable_code = ORDER_UNREADABLE
    cancelled_status = None  # bol never removes an order (see the module's docstring)
    reissues = False
    revisit_unbookable = False  # becoming bookable (placed, shipped) is a change bol lists
    webhooks = None

    def __init__(
        self,
        settings: IngestBolSettings,
        box: SecretBox,
        returns: ReturnsStore,
        metrics: BolMetrics | None = None,
    ) -> None:
        self.settings = settings
        self.box = box
        self.returns = returns
        self.metrics = metrics
        # One client per connection, kept while address and credentials are unchanged:
        # its token and its request budget (bol counts per account) live on.
        self._clients = SessionCache(lambda client: client.aclose())

    async def session(self, connection_id: str, settings: ConnectionSettings) -> BolSession:
        client = await self._clients.get(
            connection_id, client_identity(settings), lambda: self.client(settings)
        )
        return BolSession(
            connection_id,
            client,
            settings.shop.options,
            self.returns,
            timedelta(seconds=self.settings.overlap_seconds),
            self.metrics,
        )

    def client(self, settings: ConnectionSettings) -> BolClient:
        """A client for the connection's credentials (raises SettingsUnusable)."""
        shop = settings.shop
        secret = shop_secret(settings, self.box, SECRET_NAME, account="bol client id")
        s = self.settings
        return BolClient(
            str(shop.base_url),
            shop.account_id,
            secret,
            rate_limits=s.budgets(),
            login_url=s.login_url,
            media_type=s.media_type,
            timeout_seconds=s.timeout_seconds,
            max_attempts=s.max_attempts,
            max_retry_seconds=s.max_retry_seconds,
            token_margin_seconds=s.token_margin_seconds,
            metrics=self.metrics,
        )

    async def drop(self, connection_id: str) -> None:
        await self._clients.drop(connection_id)

    async def check_connection(
        self, settings: ConnectionSettings, language: Language
    ) -> ConnectionCheck:
        s = self.settings
        return await check.check_connection(
            settings,
            self.box,
            language,
            login_url=s.login_url,
            media_type=s.media_type,
            timeout_seconds=s.timeout_seconds,
        )

    async def aclose(self) -> None:
        await self._clients.aclose()

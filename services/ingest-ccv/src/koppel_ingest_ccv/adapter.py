"""CCV Shop as an adapter of the ingest runtime (`koppel_ingest.ShopAdapter`).

What is CCV's own: the signed client (`client`), what an order and a list item tell
(`orders`), the pure mapping (`mapping`), webhook signatures (`signing`), the
connection test (`check`), and these facts the runtime acts on:
- CCV has webhooks, and no "changed since" filter: the poll lists every order created
  in the window (a full listing) and skips, from the list item, what did not change;
- an edit re-issues the order under a new id with the same order number (`reissues`),
  and cancels (or removes) the old id: the successor is found by the order number;
- a removed order reads as cancelled with status 8.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timedelta

from koppel_chassis import SecretBox
from koppel_contracts import (
    CanonicalOrder,
    ConnectionSettings,
    Language,
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
    Texts,
    shop_secret,
)
from pydantic import SecretStr

from . import check
from .client import CcvClient, CcvJson, parse_json
from .mapping import map_order
from .orders import CANCELLED, Trigger, candidate, created, is_cancelled, observe
from .settings import IngestCcvSettings
from .signing import webhook_signature_valid

SECRET_NAME = "api_secret"
WEBHOOK_EVENTS = ("orders.created", "orders.updated.ispaid", "orders.updated.status")

TEXTS: Texts = {
    "shop_credentials_refused": {
        "nl": (
            "CCV Shop weigert de API-sleutel van deze koppeling: de sleutel is ingetrokken"
            " of het secret klopt niet. Koppel haalt geen bestellingen meer op.",
            "Maak in de backoffice van CCV Shop een nieuwe API-sleutel aan en werk de koppeling"
            " bij met de nieuwe public key en het secret. Bestellingen die intussen betaald"
            " zijn, worden daarna alsnog opgehaald.",
        ),
        "en": (
            "CCV Shop refuses this connection's API key: the key was revoked or the secret"
            " is wrong. Koppel no longer fetches orders.",
            "Create a new API key in the CCV Shop back office and update the connection with"
            " its public key and secret. Orders paid in the meantime are fetched afterwards.",
        ),
    },
    "shop_credentials_missing": {
        "nl": (
            "De koppeling heeft geen volledige API-sleutel voor CCV Shop (public key en secret).",
            "Vul de public key en het secret van een CCV Shop API-sleutel in bij de koppeling.",
        ),
        "en": (
            "The connection has no complete CCV Shop API key (public key and secret).",
            "Enter the public key and secret of a CCV Shop API key in the connection.",
        ),
    },
    "shop_secret_unreadable": {
        "nl": (
            "Het opgeslagen secret van de CCV Shop API-sleutel kan niet worden ontsleuteld.",
            "Voer het secret van de CCV Shop API-sleutel opnieuw in bij de koppeling. Blijft dit"
            " gebeuren, neem dan contact op met Koppel.",
        ),
        "en": (
            "The stored secret of the CCV Shop API key cannot be decrypted.",
            "Enter the secret of the CCV Shop API key in the connection again. If this keeps"
            " happening, contact Koppel.",
        ),
    },
}


class CcvWebhooks:
    """CCV's deliveries: a summary with the order's `id`, signed with the webhook's key
    (the scheme is undocumented; see `signing`)."""

    route = "/webhooks/ccvshop/{connection_id}"

    def verify(
        self, keys: list[str], body: bytes, address: str, headers: Mapping[str, str]
    ) -> bool:
        return webhook_signature_valid(keys, body, address, headers.get("x-hash"))

    def announced(self, body: bytes) -> str | None:
        try:
            payload: CcvJson = parse_json(body)
            return str(int(payload["id"]))
        except (ValueError, KeyError, TypeError):
            return None


class CcvSession:
    def __init__(self, client: CcvClient, trigger: Trigger) -> None:
        self.client = client
        self.trigger = trigger

    async def fetch(self, source_order_id: str) -> ShopOrder | None:
        order = await self.client.order(int(source_order_id))
        return observe(order, self.trigger) if order is not None else None

    async def canonical(self, order: ShopOrder) -> CanonicalOrder:
        rows = await self.client.order_rows(int(order.source_order_id))
        return map_order(order.payload, rows)

    async def changes(self, window: PollWindow) -> Changes:
        """CCV has no "updated since" filter (ccvshop.md §7): every completed order created
        since the window's start (listed by date, the only format we can be sure of, and
        cut to the second here), oldest first."""
        items = self.client.orders(
            min_create_date=window.since.date().isoformat(), orderby="create_date"
        )
        found = []
        async for item in items:
            placed_at = created(item)
            if placed_at is not None and placed_at < window.since:
                continue
            found.append(candidate(item, self.trigger))
        return Changes(found, cursor=None, complete_since=window.since)

    async def successor(self, record: OrderRecord) -> str | None:
        """The live id that now carries the order number (CCV's re-issue after an edit)."""
        if record.lookup_key is None:
            return None
        ids = [
            int(order["id"])
            async for order in self.client.orders(ordernumber=record.lookup_key)
            if str(order["id"]) != record.source_order_id and not is_cancelled(order)
        ]
        return str(max(ids)) if ids else None

    async def placed_between(self, start: datetime, end: datetime) -> AsyncIterator[str]:
        last_day = (end - timedelta(microseconds=1)).date()
        async for order in self.client.orders(
            min_create_date=start.date().isoformat(),
            max_create_date=last_day.isoformat(),
            orderby="create_date",
        ):
            placed_at = created(order)
            if placed_at is None or start <= placed_at < end:
                yield str(order["id"])  # an unreadable date is fetched: a recorded failure

    async def register_webhooks(self, address: str) -> list[RegisteredWebhook]:
        """One webhook per event at `address`: those CCV has already are reused (and
        re-activated), only missing events are created."""
        client = self.client
        existing = [h for h in await client.webhooks() if h.get("address") == address]
        registered: list[RegisteredWebhook] = []
        for event in WEBHOOK_EVENTS:
            ours = [h for h in existing if h.get("event") == event and h.get("key")]
            if not ours:
                made = await client.create_webhook(event, address)
                if made is None:  # CCV may answer a POST without a body
                    made = next(
                        h
                        for h in await client.webhooks()
                        if h.get("address") == address and h.get("event") == event
                    )
                ours = [made]
            for hook in ours:
                if not hook.get("is_active"):
                    await client.activate_webhook(int(hook["id"]), address)
                registered.append(
                    RegisteredWebhook(str(hook["id"]), event, SecretStr(str(hook["key"])))
                )
        return registered


def client_identity(settings: ConnectionSettings) -> tuple[str, str, str]:
    shop = settings.shop
    return (str(shop.base_url), shop.account_id or "", shop.credentials.get(SECRET_NAME, ""))


class CcvAdapter:
    system = ShopSystem.CCVSHOP
    source_system = SourceSystem.CCVSHOP
    component = "ingest-ccv"
    display_name = "CCV Shop"
    texts = TEXTS
    order_unreadable_code = "ccv_order_unreadable"
    cancelled_status = str(CANCELLED)
    reissues = True
    revisit_unbookable = False  # the poll lists the whole window, unbookable orders too
    webhooks = CcvWebhooks()

    def __init__(self, settings: IngestCcvSettings, box: SecretBox) -> None:
        self.settings = settings
        self.box = box
        # One client per connection, kept while URL and key are unchanged, so each
        # connection keeps one request budget (CCV counts per key).
        self._clients = SessionCache(lambda client: client.aclose())

    async def session(self, connection_id: str, settings: ConnectionSettings) -> CcvSession:
        client = await self._clients.get(
            connection_id, client_identity(settings), lambda: self._client(settings)
        )
        return CcvSession(client, Trigger.parse(settings.shop.options.trigger_statuses))

    def _client(self, settings: ConnectionSettings) -> CcvClient:
        shop = settings.shop
        secret = shop_secret(settings, self.box, SECRET_NAME, account="CCV public key")
        s = self.settings
        return CcvClient(
            str(shop.base_url),
            shop.account_id,
            secret,
            page_size=s.ccv_page_size,
            get_budget=s.ccv_get_budget,
            write_budget=s.ccv_write_budget,
            budget_window_seconds=s.ccv_budget_window_seconds,
            timeout_seconds=s.ccv_timeout_seconds,
            max_attempts=s.ccv_max_attempts,
            verify_response_signatures=s.ccv_verify_response_signatures,
        )

    async def drop(self, connection_id: str) -> None:
        await self._clients.drop(connection_id)

    async def check_connection(
        self, settings: ConnectionSettings, language: Language
    ) -> ConnectionCheck:
        return await check.check_connection(
            settings, self.box, language, timeout_seconds=self.settings.ccv_timeout_seconds
        )

    async def aclose(self) -> None:
        await self._clients.aclose()

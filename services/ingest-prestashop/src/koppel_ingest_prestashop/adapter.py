"""PrestaShop as an adapter of the ingest runtime (`koppel_ingest.ShopAdapter`).

What is PrestaShop's own: the webservice client (`client`), reading an order and what
its mapping needs (`reader`), what an order and a list item tell (`orders`), the pure
mapping (`mapping`, `checks`, `refunds`, `parties`), the connection test (`check`), and
these facts the runtime acts on:
- no webhooks in PrestaShop's core (§3): poll only, by `date_upd` since a cursor;
- an order keeps its id when edited (§12): no re-issues, no successors;
- a credit slip does not move its order's `date_upd` (sandbox assumption, UNCONFIRMED):
  slips are listed by their own `date_upd` and name their orders (`listing`);
- orders not bookable yet are watched (`revisit_unbookable`): fetched on every poll.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from zoneinfo import ZoneInfo

from koppel_chassis import SecretBox
from koppel_contracts import CanonicalOrder, ConnectionSettings, Language, ShopSystem, SourceSystem
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

from . import check, polling
from .client import PrestashopClient
from .listing import list_changes
from .mapping import map_order
from .orders import Fetched, Trigger, observe
from .reader import Lookups, read_bundle, read_fetched
from .settings import IngestPrestashopSettings
from .webservice import MappingError, shop_moment

KEY_NAME = "webservice_key"

TEXTS: Texts = {
    "shop_credentials_refused": {
        "nl": (
            "PrestaShop weigert de webservice-sleutel van deze koppeling (de sleutel is"
            " ingetrokken of mist rechten). Koppel haalt geen bestellingen meer op.",
            "Controleer in PrestaShop onder Geavanceerde parameters > Webservice of de sleutel"
            " actief is en het recht Bekijken (GET) heeft op bestellingen, orderregels,"
            " klanten, adressen, landen, valuta, belastingen, vervoerders, bestelstatussen,"
            " kortingsregels en creditnota's; werk daarna de koppeling bij. Bestellingen die"
            " intussen betaald zijn, worden alsnog opgehaald.",
        ),
        "en": (
            "PrestaShop refuses this connection's webservice key (revoked, or missing"
            " rights). Koppel no longer fetches orders.",
            "In PrestaShop, Advanced parameters > Webservice, check that the key is active and"
            " has the View (GET) right on orders, order details, customers, addresses,"
            " countries, currencies, taxes, carriers, order states, order cart rules and"
            " order slips; then update the connection. Orders paid in the meantime are"
            " fetched afterwards.",
        ),
    },
    "shop_credentials_missing": {
        "nl": (
            "De koppeling heeft geen webservice-sleutel voor PrestaShop.",
            "Maak in PrestaShop onder Geavanceerde parameters > Webservice een sleutel aan en"
            " vul die in bij de koppeling.",
        ),
        "en": (
            "The connection has no PrestaShop webservice key.",
            "Create a key in PrestaShop under Advanced parameters > Webservice and enter it in"
            " the connection.",
        ),
    },
    "shop_secret_unreadable": {
        "nl": (
            "De opgeslagen webservice-sleutel van PrestaShop kan niet worden ontsleuteld.",
            "Voer de webservice-sleutel opnieuw in bij de koppeling. Blijft dit gebeuren, neem"
            " dan contact op met Koppel.",
        ),
        "en": (
            "The stored PrestaShop webservice key cannot be decrypted.",
            "Enter the webservice key in the connection again. If this keeps happening,"
            " contact Koppel.",
        ),
    },
}


class PrestashopSession:
    def __init__(
        self,
        client: PrestashopClient,
        lookups: Lookups,
        trigger: Trigger,
        settings: IngestPrestashopSettings,
    ) -> None:
        self.client = client
        self.lookups = lookups
        self.trigger = trigger
        self.overlap = settings.prestashop_overlap_seconds
        self.zone = ZoneInfo(settings.prestashop_timezone)

    async def fetch(self, source_order_id: str) -> ShopOrder | None:
        fetched = await read_fetched(self.client, self.lookups, int(source_order_id))
        if fetched is None:
            return None
        try:
            currency: str | None = await self.lookups.currency(fetched.order.id_currency)
        except MappingError:
            currency = None  # the mapping names it; the summary does without
        return observe(fetched, self.trigger, self.zone, currency)

    async def canonical(self, order: ShopOrder) -> CanonicalOrder:
        fetched: Fetched = order.payload
        return map_order(await read_bundle(self.client, self.lookups, fetched, self.zone))

    async def changes(self, window: PollWindow) -> Changes:
        """Orders whose `date_upd` moved since the cursor (minus the overlap), and the orders
        of credit slips made since theirs; oldest change first."""
        self.lookups.clear()  # states, taxes, …: read afresh once per poll
        states = await self.lookups.states()
        cursor = polling.Cursor.parse(window.cursor)
        listed = await list_changes(
            self.client,
            states,
            self.trigger,
            polling.interval(cursor.orders, window.since, window.now, self.overlap, self.zone),
            polling.interval(cursor.slips, window.since, window.now, self.overlap, self.zone),
        )
        advanced = cursor.advanced(listed.newest_order, listed.newest_slip)
        return Changes(listed.candidates, cursor=advanced.dump())

    async def successor(self, record: OrderRecord) -> str | None:
        return None  # PrestaShop edits an order in place (§12)

    async def placed_between(self, start: datetime, end: datetime) -> AsyncIterator[str]:
        span = polling.placed_interval(start, end, self.zone)
        async for item in self.client.objects(
            "orders",
            filters={"date_add": span.filter},
            display="[id,date_add]",
            sort="[date_add_ASC,id_ASC]",
            dates=True,
        ):
            try:
                placed_at = shop_moment(item.get("date_add"), self.zone, "date_add")
            except MappingError:
                yield str(item.get("id"))  # fetched: its failure is recorded
                continue
            if start <= placed_at < end:
                yield str(item.get("id"))

    async def register_webhooks(self, address: str) -> list[RegisteredWebhook]:
        return []  # no webhooks in PrestaShop's core


def client_identity(settings: ConnectionSettings) -> tuple[str, str]:
    return (str(settings.shop.base_url), settings.shop.credentials.get(KEY_NAME, ""))


class PrestashopAdapter:
    system = ShopSystem.PRESTASHOP
    source_system = SourceSystem.PRESTASHOP
    component = "ingest-prestashop"
    display_name = "PrestaShop"
    texts = TEXTS
    order_unreadable_code = "prestashop_order_unreadable"
    cancelled_status = None  # an order PrestaShop no longer has: cancelled, status unknown
    reissues = False
    revisit_unbookable = True
    webhooks = None

    def __init__(self, settings: IngestPrestashopSettings, box: SecretBox) -> None:
        self.settings = settings
        self.box = box
        # One client per connection while URL and key are unchanged: one request budget.
        self._clients = SessionCache(lambda session: session.client.aclose())

    async def session(self, connection_id: str, settings: ConnectionSettings) -> PrestashopSession:
        session: PrestashopSession = await self._clients.get(
            connection_id, client_identity(settings), lambda: self._session(settings)
        )
        # The trigger may change without a new client (same URL and key).
        session.trigger = Trigger.parse(settings.shop.options.trigger_statuses)
        return session

    def _session(self, settings: ConnectionSettings) -> PrestashopSession:
        client = PrestashopClient(
            str(settings.shop.base_url),
            self._key(settings),
            page_size=self.settings.prestashop_page_size,
            budget=self.settings.prestashop_request_budget,
            budget_window_seconds=self.settings.prestashop_budget_window_seconds,
            timeout_seconds=self.settings.prestashop_timeout_seconds,
            max_attempts=self.settings.prestashop_max_attempts,
        )
        trigger = Trigger.parse(settings.shop.options.trigger_statuses)
        return PrestashopSession(client, Lookups(client), trigger, self.settings)

    def _key(self, settings: ConnectionSettings) -> SecretStr:
        return shop_secret(settings, self.box, KEY_NAME)

    async def drop(self, connection_id: str) -> None:
        await self._clients.drop(connection_id)

    async def check_connection(
        self, settings: ConnectionSettings, language: Language
    ) -> ConnectionCheck:
        return await check.check_connection(
            settings,
            self.box,
            language,
            timeout_seconds=self.settings.prestashop_timeout_seconds,
        )

    async def aclose(self) -> None:
        await self._clients.aclose()

"""The fifth demo merchant: a book and gadget seller on Bol.com that books Octopus sales
bookings (buysellbookings). Bol.com has no webhooks: ingest-bol polls the seller account,
so a new order reaches Octopus a poll interval later.

The seller account is the Bol.com sandbox's demo retailer (its client id and secret). Bol
gives no VAT: the connection's table says which products are books (9 %); anything not in
it gets the default 21 % and its booking says so. Bol connections book consumers on one
collective debtor ("Consumenten Bol.com": Bol's customer e-mail is an alias per order) and
business buyers on a debtor of their own, as sales bookings — the defaults of a Bol.com
connection. The dossier is the Octopus sandbox's second one, next to the PrestaShop
merchant's concept invoices (the sandbox has two dossiers; sales bookings and invoices are
listed apart). Business buyers who ask for an invoice get it: ingest-bol uploads a UBL
invoice of the booking to Bol.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
from koppel_chassis import SecretBox
from koppel_contracts import (
    ConnectionSettings,
    Merchant,
    ShopConnection,
    ShopOptions,
)
from koppel_ledger_asperion import demo_seller
from koppel_sandbox_bol import DEMO as BOL
from koppel_sandbox_bol import BolControl
from koppel_sandbox_octopus import DEMO, OctopusControl

from .config import SystemConfig
from .ledgers import demo_octopus_ledger
from .polled import publish_polled_connection

BOL_CONNECTION_ID = "demo-lees-bol-octopus"
BOL_MERCHANT_EMAIL = "boekhouding@lees-demo.nl"
BOL_DOSSIER_ID = DEMO.second_dossier_id

# The demo retailer's assortment (the sandbox's DEMO_PRODUCTS): books at 9 %, electronics
# at 21 % in the Netherlands.
BOOK, COOKBOOK, ATLAS = "9789046829998", "9789400514621", "9789045045870"
EARBUDS, CHARGER, WATCH = "8718526040111", "8718526040210", "8718526040319"
VAT_BY_EAN = {
    BOOK: "9",
    COOKBOOK: "9",
    ATLAS: "9",
    EARBUDS: "21",
    CHARGER: "21",
    WATCH: "21",
}

BOL_DEMO_ORDERS: list[dict[str, Any]] = [
    # A consumer: a book at 9 % and earbuds at 21 % (the collective debtor).
    {"items": [{"ean": BOOK}, {"ean": EARBUDS}]},
    # A business buyer who wants an invoice: its own debtor; once shipped, Bol shows an
    # invoice request, which ingest-bol answers with the booking's UBL invoice.
    {"business": True, "invoiceRequested": True, "items": [{"ean": CHARGER, "quantity": 2}]},
]


def demo_bol_connection(
    config: SystemConfig, *, client_secret: str = BOL.client_secret, language: str = "nl"
) -> ConnectionSettings:
    """The demo retailer, orders bookable once placed (Bol's buyer has paid by then), VAT
    from the EAN table, booked in the second Octopus dossier with the demo VAT mapping."""
    box = SecretBox(config.secrets_key)
    seller = demo_seller(
        name="Leeshuis Demo",
        street="Lange Viestraat 2",
        postal_code="3511 BK",
        city="Utrecht",
        email="verkoop@lees-demo.nl",
    )
    return ConnectionSettings(
        merchant=Merchant(
            name="Leeshuis Demo", contact_email=BOL_MERCHANT_EMAIL, language=language
        ),
        shop=ShopConnection(
            system="bol",
            base_url=config.url(config.ports.bol),
            account_id=BOL.client_id,
            credentials={"client_secret": box.encrypt(client_secret)},
            options=ShopOptions(
                trigger_statuses=["paid"],
                default_vat_rate=Decimal("21"),
                vat_by_ean={ean: Decimal(rate) for ean, rate in VAT_BY_EAN.items()},
                seller=seller,
                answer_invoice_requests=True,
            ),
        ),
        # Consumers collective and sales bookings: a Bol.com connection's defaults.
        ledger=demo_octopus_ledger(
            box, config.url(config.ports.octopus), dossier_id=BOL_DOSSIER_ID
        ),
    )


async def connect_bol(
    config: SystemConfig, connection: ConnectionSettings | None = None, *, timeout: float = 30.0
) -> int:
    """Publish the merchant's connection and wait until ingest-bol polls with it; orders
    placed from then on are ingested (older ones are what `koppel migrate` is for).
    Returns the settings version published."""
    return await publish_polled_connection(
        config,
        "ingest-bol",
        BOL_CONNECTION_ID,
        connection or demo_bol_connection(config),
        timeout=timeout,
    )


def bol_control(config: SystemConfig) -> BolControl:
    """The sandbox's control API, on the demo retailer's account."""
    return BolControl(config.url(config.ports.bol), retailer_id=BOL.retailer_id)


async def place_bol_order(bol: BolControl, spec: dict[str, Any]) -> dict[str, Any]:
    """A buyer orders; a business buyer's order is shipped at once, so that Bol shows its
    invoice request. Returns the order as the Retailer API shows it."""
    order = await bol.place_order(**spec)
    if spec.get("invoiceRequested"):
        await bol.ship(str(order["orderId"]), reference="DEMO")
        order = await bol.order(str(order["orderId"]))
    return order


def order_total(order: dict[str, Any]) -> Decimal:
    """What the buyer paid: Bol's item totals (unit price × quantity − discounts), minus
    what was cancelled."""
    total = Decimal(0)
    for item in order["orderItems"]:
        kept = int(item["quantity"]) - int(item.get("quantityCancelled") or 0)
        total += Decimal(str(item["totalPrice"])) * kept / int(item["quantity"])
    return total.quantize(Decimal("0.01"))


def order_line(order: dict[str, Any]) -> str:
    """`order 1201000006 (€ 62.98)`: how the demo names a Bol.com order."""
    return f"order {order['orderId']} (€ {order_total(order):.2f})"


async def newest_open_order_id(config: SystemConfig) -> str | None:
    """The newest open order of the seller, asked the way Koppel asks: a token with the
    client id and secret, then the Retailer API's open orders (newest first)."""
    base = config.url(config.ports.bol)
    media = {"Accept": "application/vnd.retailer.v10+json"}
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        token = await http.post(
            "/token",
            data={"grant_type": "client_credentials"},
            auth=(BOL.client_id, BOL.client_secret),
            headers={"Accept": "application/json"},
        )
        token.raise_for_status()
        headers = {**media, "Authorization": f"Bearer {token.json()['access_token']}"}
        params = {"status": "OPEN", "fulfilment-method": "FBR"}
        listed = await http.get("/retailer/orders", params=params, headers=headers)
    listed.raise_for_status()
    orders = listed.json().get("orders") or []
    return str(orders[0]["orderId"]) if orders else None


async def cancel_newest_order(config: SystemConfig) -> dict[str, Any] | None:
    """The seller cancels the newest open order: Koppel publishes the cancellation and the
    ledger credits the booking."""
    order_id = await newest_open_order_id(config)
    if order_id is None:
        return None
    async with bol_control(config) as bol:
        await bol.cancel(order_id)
        return await bol.order(order_id)


async def print_bol_bookings(config: SystemConfig, say: Callable[[str], None]) -> None:
    """The Bol.com merchant's sales bookings in its Octopus dossier, with their debtor."""
    async with OctopusControl(config.url(config.ports.octopus)) as octopus:
        bookings = await octopus.buysell_bookings(BOL_DOSSIER_ID)
        relations = {
            _relation_id(r): str(r.get("name", "")) for r in await octopus.relations(BOL_DOSSIER_ID)
        }
    say(f"Octopus — sales bookings of the Bol.com merchant (dossier {BOL_DOSSIER_ID}):")
    if not bookings:
        say("  none yet")
    for booking in bookings:
        total = Decimal(str(booking.get("amount", "0")))
        number = f"{booking.get('journalKey', '')} {booking.get('documentSequenceNr', ''):>4}"
        reference = str(booking.get("reference", ""))
        debtor = relations.get(_relation_id(booking), "?")
        say(f"  {number}  reference {reference:<12} € {total:>9}  {debtor}")


def _relation_id(document: dict[str, Any]) -> int | None:
    key = (document.get("relationIdentificationServiceData") or {}).get("relationKey") or {}
    found = key.get("id")
    return int(found) if found is not None else None

"""The demo retailer: fixed credentials, a small assortment (books, which carry 9 %
VAT in the Netherlands, and electronics at 21 % — bol itself sends no VAT, only
EANs and prices incl. VAT) and a handful of orders covering the cases an ingest
meets: consumer and business buyers, NL and BE, FBR and FBB, a discount, a
pick-up point, a partial shipment, a customer's cancellation request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from .account import Account
from .model import Product
from .placing import place_order
from .state import BolState


@dataclass(frozen=True)
class DemoIdentity:
    retailer_id: str
    client_id: str
    client_secret: str
    name: str


DEMO = DemoIdentity(
    retailer_id="1354980",
    client_id="5b7e2a91-3c4d-4f6e-9a8b-0c1d2e3f4a5b",
    client_secret="demo-Xq8vK2pL9sT4wZ7yB3nM6cR1fH5jD0gA",
    name="Koppel Demo Winkel",
)

# EANs carry valid check digits; books use the Dutch ISBN-13 range (978-90/94).
DEMO_PRODUCTS: tuple[Product, ...] = (
    Product(
        "9789046829998",
        "De stille kracht van boeken (paperback)",
        Decimal("12.99"),
        "BOEK-STILLE-KRACHT",
        "6ff736b5-cdd0-4150-8c67-78269ee986f5",
        "book",
    ),
    Product(
        "9789400514621",
        "Koken met groenten uit eigen tuin",
        Decimal("24.95"),
        "BOEK-GROENTE-TUIN",
        "0b3e2e0c-5a1e-4f7e-9d0a-2f0a9c1b7e21",
        "book",
    ),
    Product(
        "9789045045870",
        "Atlas van Nederland - editie 2026",
        Decimal("39.50"),
        "BOEK-ATLAS-NL",
        "9a4f0d52-6c1b-4a87-8e3d-5b2c7e1f0a93",
        "book",
    ),
    Product(
        "8718526040111",
        "Draadloze oordopjes BT-200 zwart",
        Decimal("49.99"),
        "EL-OORDOP-BT200",
        "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f",
        "electronics",
    ),
    Product(
        "8718526040210",
        "USB-C snellader 65W GaN",
        Decimal("29.95"),
        "EL-LADER-65W",
        "d2e3f4a5-b6c7-4d8e-9f0a-1b2c3d4e5f6a",
        "electronics",
    ),
    Product(
        "8718526040319",
        "Smartwatch Fit 3 met hartslagmeter",
        Decimal("129.00"),
        "EL-WATCH-FIT3",
        "e3f4a5b6-c7d8-4e9f-0a1b-2c3d4e5f6a7b",
        "electronics",
    ),
)


def demo_account(state: BolState) -> Account:
    """Add the demo retailer (credentials in `DEMO`) with its products and orders."""
    account = state.add_account(
        retailer_id=DEMO.retailer_id,
        client_id=DEMO.client_id,
        client_secret=DEMO.client_secret,
        name=DEMO.name,
    )
    account.products = {p.ean: p for p in DEMO_PRODUCTS}
    seed_demo_orders(account)
    return account


def seed_demo_orders(account: Account) -> None:
    now = account.now()

    def ago(hours: float) -> str:
        return (now - timedelta(hours=hours)).isoformat()

    books, cook, atlas, buds, charger, watch = (p.ean for p in DEMO_PRODUCTS)
    # A consumer: a book and earbuds, still to ship.
    place_order(
        account,
        {
            "placedAt": ago(5),
            "items": [{"ean": books}, {"ean": buds}],
        },
    )
    # A business buyer who wants an invoice: two chargers, shipped an hour ago.
    business = place_order(
        account,
        {
            "placedAt": ago(20),
            "business": True,
            "invoiceRequested": True,
            "items": [{"ean": charger, "quantity": 2}],
        },
    )
    account.ship(business.order_id, reference="DEMO-ZEND-001", at=now - timedelta(hours=1))
    # A Belgian consumer, smartwatch fulfilled by bol, already shipped by bol.
    place_order(
        account,
        {
            "placedAt": ago(30),
            "country": "BE",
            "fulfilmentMethod": "FBB",
            "items": [{"ean": watch}],
            "ship": True,
        },
    )
    # Two cookbooks with a promotion, delivered to a pick-up point; one shipped so far.
    promo = place_order(
        account,
        {
            "placedAt": ago(3),
            "pickupPoint": True,
            "items": [
                {
                    "ean": cook,
                    "quantity": 2,
                    "discounts": [{"title": "2e boek halve prijs", "amount": "12.48"}],
                }
            ],
        },
    )
    account.ship(promo.order_id, [(promo.items[0].order_item_id, 1)], reference="DEMO-ZEND-002")
    # An atlas whose buyer asked to cancel before it shipped.
    atlas_order = place_order(account, {"placedAt": ago(2), "items": [{"ean": atlas}]})
    account.request_cancellation(atlas_order.order_id)

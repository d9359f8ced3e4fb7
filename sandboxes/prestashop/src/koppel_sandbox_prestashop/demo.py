"""A realistic Dutch demo shop: a fixed webservice key and a few orders with
products at 21 % and 9 %, a B2B customer with a VAT number, a voucher, gift
wrapping, a refund and a cancellation."""

from __future__ import annotations

from .aftersales import refund
from .orders import cancel, create_order, set_state
from .state import PrestaShopState

DEMO_KEY = "KOPPELDEMO0PRESTASHOP0WEBSERVICE"  # 32 characters, as PrestaShop requires

COFFEE = {
    "name": "Koffiebonen Espresso 1 kg",
    "reference": "KB-ESP-1000",
    "ean13": "8712345000017",
    "price_tax_incl": "24.95",
    "tax_rate": "9",
    "weight": "1.0",
}
TEA = {
    "name": "Biologische groene thee 100 g",
    "reference": "TH-GRN-100",
    "ean13": "8712345000024",
    "price_tax_incl": "6.49",
    "tax_rate": "9",
    "weight": "0.1",
}
MUG = {
    "name": "Koffiemok wit 300 ml",
    "reference": "MOK-WIT-300",
    "ean13": "8712345000031",
    "price_tax_incl": "12.10",
    "tax_rate": "21",
    "weight": "0.4",
}
GRINDER = {
    "name": "Handkoffiemolen RVS",
    "reference": "MOL-RVS",
    "ean13": "8712345000048",
    "price_tax_incl": "49.95",
    "tax_rate": "21",
    "weight": "0.8",
}


def populate(state: PrestaShopState) -> None:
    state.create_key("read", key=DEMO_KEY, description="Koppel")
    state.set_clock(None)
    create_order(
        state,
        {
            "customer": {
                "email": "anna.devries@example.nl",
                "firstname": "Anna",
                "lastname": "de Vries",
            },
            "rows": [{**COFFEE, "quantity": 2}, {**MUG, "quantity": 1}],
            "state": 2,
        },
    )
    b2b = create_order(
        state,
        {
            "customer": {
                "email": "inkoop@dekoffiehoek.nl",
                "firstname": "Jeroen",
                "lastname": "Bakker",
                "company": "De Koffiehoek B.V.",
            },
            "invoice_address": {
                "company": "De Koffiehoek B.V.",
                "vat_number": "NL859123456B01",
                "address1": "Oudegracht 200",
                "postcode": "3511 NR",
                "city": "Utrecht",
            },
            "rows": [{**COFFEE, "quantity": 6}, {**GRINDER, "quantity": 2}, {**TEA, "quantity": 4}],
            "cart_rules": [{"name": "Zakelijk 10%", "percent": "10"}],
            "shipping": {"carrier": "DHL", "price_tax_incl": "8.95"},
            "state": 10,
        },
    )
    set_state(state, b2b.id, 2)
    gift = create_order(
        state,
        {
            "customer": {"email": "pieter@example.nl", "firstname": "Pieter", "lastname": "Jansen"},
            "rows": [{**TEA, "quantity": 3}, {**MUG, "quantity": 2}],
            "wrapping": {"price_tax_incl": "2.50", "message": "Fijne verjaardag!"},
            "cart_rules": [{"name": "WELKOM5", "amount": "5.00", "tax_included": True}],
            "state": 2,
        },
    )
    set_state(state, gift.id, 4)
    refund(
        state,
        gift.id,
        {"lines": [{"id_order_detail": gift.lines[1].id, "quantity": 1}], "partial": True},
    )
    cancelled = create_order(
        state,
        {
            "customer": {"email": "sanne@example.nl", "firstname": "Sanne", "lastname": "Visser"},
            "rows": [{**GRINDER, "quantity": 1}],
            "state": 10,
        },
    )
    cancel(state, cancelled.id)


def demo_shop(seed: int | None = 7) -> PrestaShopState:
    """A shop with the demo key and four orders; `reset()` brings this data back."""
    return PrestaShopState(seed=seed, baseline=populate)

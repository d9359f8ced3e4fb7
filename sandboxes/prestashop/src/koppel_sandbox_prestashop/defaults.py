"""A freshly installed Dutch PrestaShop: languages, order states, countries,
currencies, taxes and carriers.

Order states are the 13 of the default install in install order, with their
flags (prestashop.md §10, from `install-dev/data/xml/order_state.xml`); the
English names are PrestaShop's, the Dutch ones are ours (UNCONFIRMED wording).
Country ids follow the default install (NL 13, FR 8 — UNCONFIRMED per shop).
"""

from __future__ import annotations

from decimal import Decimal

from .model import Carrier, Country, Currency, Language, OrderState, Tax

NL, EN = 1, 2


def languages() -> dict[int, Language]:
    return {
        NL: Language(NL, "nl", "Nederlands (Dutch)", "nl-NL"),
        EN: Language(EN, "en", "English (English)", "en-US"),
    }


# fmt: off
# id: (English, Dutch, paid, logable, invoice, shipped, delivery, module, template, color)
_STATES: list[tuple[int, str, str, bool, bool, bool, bool, bool, str, str, str]] = [
    (1, "Awaiting check payment", "In afwachting van betaling per cheque",
     False, False, False, False, False, "ps_checkpayment", "cheque", "#34209E"),
    (2, "Payment accepted", "Betaling aanvaard",
     True, True, True, False, False, "", "payment", "#3498D8"),
    (3, "Processing in progress", "Wordt verwerkt",
     True, True, True, False, True, "", "preparation", "#3498D8"),
    (4, "Shipped", "Verzonden", True, True, True, True, True, "", "shipped", "#01b887"),
    (5, "Delivered", "Afgeleverd", True, True, True, True, True, "", "", "#01b887"),
    (6, "Canceled", "Geannuleerd",
     False, False, False, False, False, "", "order_canceled", "#2C3E50"),
    (7, "Refunded", "Terugbetaald", False, False, True, False, False, "", "refund", "#ec2e15"),
    (8, "Payment error", "Betalingsfout",
     False, False, False, False, False, "", "payment_error", "#8f0621"),
    (9, "On backorder (paid)", "In nabestelling (betaald)",
     True, False, True, False, False, "", "outofstock", "#3498D8"),
    (10, "Awaiting bank wire payment", "In afwachting van bankoverschrijving",
     False, False, False, False, False, "ps_wirepayment", "bankwire", "#34209E"),
    (11, "Remote payment accepted", "Betaling op afstand aanvaard",
     True, True, True, False, False, "", "payment", "#3498D8"),
    (12, "On backorder (not paid)", "In nabestelling (niet betaald)",
     False, False, False, False, False, "", "outofstock", "#34209E"),
    (13, "Awaiting Cash On Delivery validation", "In afwachting van bevestiging rembours",
     False, False, False, False, False, "ps_cashondelivery", "cashondelivery", "#34209E"),
]
# fmt: on


def order_states() -> dict[int, OrderState]:
    states = {}
    for sid, en, nl, paid, logable, invoice, shipped, delivery, module, template, color in _STATES:
        states[sid] = OrderState(
            id=sid,
            name={NL: nl, EN: en},
            paid=paid,
            logable=logable,
            invoice=invoice,
            shipped=shipped,
            delivery=delivery,
            module_name=module,
            template={NL: template, EN: template},
            color=color,
            send_email=bool(template),
            pdf_invoice=invoice,
            pdf_delivery=shipped,
        )
    return states


def countries() -> dict[int, Country]:
    rows = [
        (1, "DE", "Duitsland", "Germany", 49, "NNNNN"),
        (3, "BE", "België", "Belgium", 32, "NNNN"),
        (8, "FR", "Frankrijk", "France", 33, "NNNNN"),
        (13, "NL", "Nederland", "Netherlands", 31, "NNNN LL"),
        (17, "GB", "Verenigd Koninkrijk", "United Kingdom", 44, ""),
        (21, "US", "Verenigde Staten", "United States", 1, "NNNNN"),
    ]
    return {
        cid: Country(cid, iso, {NL: nl, EN: en}, prefix, zip_code_format=fmt)
        for cid, iso, nl, en, prefix, fmt in rows
    }


def currencies() -> dict[int, Currency]:
    return {
        1: Currency(1, "EUR", "Euro", "€", "978"),
        2: Currency(2, "GBP", "British Pound", "£", "826", Decimal("0.850000")),
    }


def taxes() -> dict[int, Tax]:
    return {
        1: Tax(1, Decimal(21), {NL: "BTW NL 21%", EN: "VAT NL 21%"}, 1),
        2: Tax(2, Decimal(9), {NL: "BTW NL 9%", EN: "VAT NL 9%"}, 2),
    }


def carriers() -> dict[int, Carrier]:
    return {
        1: Carrier(1, "Afhalen in de winkel", Decimal(0), 0, {NL: "Afhalen", EN: "Pick up"}),
        2: Carrier(
            2,
            "PostNL",
            Decimal(21),
            1,
            {NL: "1-2 werkdagen", EN: "1-2 business days"},
            "https://jouw.postnl.nl/track-and-trace/@",
        ),
        3: Carrier(3, "DHL", Decimal(21), 1, {NL: "2-3 werkdagen", EN: "2-3 business days"}),
    }

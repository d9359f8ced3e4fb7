"""Realistic buyers: Dutch and Belgian addresses, bol's scrambled relay e-mail aliases
(a different alias for billing and delivery, bol.md §3.2), business buyers with
company, VAT and chamber-of-commerce numbers."""

from __future__ import annotations

import random
import string
from typing import Any

EMAIL_DOMAIN = "verkopen.bol.com"

_NL = [
    {
        "salutation": "FEMALE",
        "firstName": "Sanne",
        "surname": "de Vries",
        "streetName": "Oudegracht",
        "houseNumber": "112",
        "zipCode": "3511AX",
        "city": "Utrecht",
        "countryCode": "NL",
    },
    {
        "salutation": "MALE",
        "firstName": "Daan",
        "surname": "Bakker",
        "streetName": "Keizersgracht",
        "houseNumber": "45",
        "houseNumberExtension": "A",
        "zipCode": "1015CJ",
        "city": "Amsterdam",
        "countryCode": "NL",
    },
    {
        "salutation": "UNKNOWN",
        "firstName": "Kim",
        "surname": "Jansen",
        "streetName": "Stationsplein",
        "houseNumber": "7",
        "zipCode": "9726AE",
        "city": "Groningen",
        "countryCode": "NL",
    },
]
_BE = [
    {
        "salutation": "MALE",
        "firstName": "Lucas",
        "surname": "Peeters",
        "streetName": "Meir",
        "houseNumber": "21",
        "zipCode": "2000",
        "city": "Antwerpen",
        "countryCode": "BE",
    },
]
_BUSINESS = {
    "NL": {
        "company": "Studio Lindeboom B.V.",
        "vatNumber": "NL859637412B01",
        "kvkNumber": "71234567",
        "orderReference": "PO-2026-0117",
    },
    "BE": {
        "company": "Drukkerij Vermeulen BV",
        "vatNumber": "BE0456789123",
        "kvkNumber": "0456789123",
        "orderReference": "BV-4471",
    },
}
LANGUAGES = {"NL": "nl", "BE": "nl-BE"}


def relay_email(rng: random.Random) -> str:
    local = "".join(rng.choices(string.ascii_lowercase + string.digits, k=30))
    return f"{local}@{EMAIL_DOMAIN}"


def buyer(
    rng: random.Random,
    *,
    country: str = "NL",
    business: bool = False,
    shipment: dict[str, Any] | None = None,
    billing: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(shipmentDetails, billingDetails) with the caller's fields merged over defaults."""
    base = dict(rng.choice(_BE if country == "BE" else _NL))
    delivery = {**base, "email": relay_email(rng), "language": LANGUAGES.get(country, "nl")}
    invoice = {k: v for k, v in base.items()}
    invoice["email"] = relay_email(rng)
    if business:
        extra = _BUSINESS.get(country, _BUSINESS["NL"])
        invoice.update(extra)
        delivery["company"] = extra["company"]
    delivery.update(shipment or {})
    invoice.update(billing or {})
    return delivery, invoice


def customer_account_number(rng: random.Random) -> str:
    return str(rng.randrange(3_000_000_000, 3_999_999_999))

"""Realistic defaults, so a test can seed an order with nothing but its rows.

Shapes follow the real CCV payloads of November 2022 (ccvshop.md §4, §5, §12):
a blank delivery address when it equals the billing address, empty strings
rather than nulls for text the customer did not fill in.
"""

from __future__ import annotations

import copy
from typing import Any

BLANK_DELIVERY_ADDRESS: dict[str, Any] = {
    "gender": None,
    "initials": "",
    "full_name": "",
    "company": "",
    "address_line_1": "",
    "address_line_2": "",
    "street": "",
    "housenumber": None,
    "housenumber_suffix": "",
    "zipcode": "",
    "city": "",
    "province": "",
    "country": "",
    "country_code": None,
    "telephone": "",
    "mobile": "",
    "comment": "",
}

BILLING_ADDRESS: dict[str, Any] = {
    "gender": "female",
    "initials": "A.",
    "first_name": "Anna",
    "last_name": "de Vries",
    "full_name": "Anna de Vries",
    "company": "",
    "address_line_1": "Lange Nieuwstraat 12",
    "address_line_2": "",
    "street": "Lange Nieuwstraat",
    "housenumber": 12,
    "housenumber_suffix": "",
    "zipcode": "3512 PH",
    "city": "Utrecht",
    "province": "Utrecht",
    "country": "Nederland",
    "country_code": "NL",
    "telephone": "030-2345678",
    "fax": "",
    "mobile": "06-12345678",
    "comment": "",
}

_CUSTOMER_TOP_LEVEL: dict[str, Any] = {
    "email": "anna.devries@example.nl",
    "customertype": "b2c",
    "btw": "",
    "kvk": "",
    "bankaccount": "",
    "iban": "",
    "bic": "",
    "bank": "",
    "tenname": "",
    "bankname": "",
    "reference": "",
    "reservationnumber": "",
    "income": "",
    "branche": "",
    "branch": "",
    "website": "",
    "clubcity": "",
    "clubcomment": "",
    "clubname": "",
    "beurs": "",
    "stand": "",
    "fair": "",
    "booth": "",
    "carbrand": "",
    "cartype": "",
    "carweight": "",
    "birthdate": None,
    "birthtime": None,
    "birthplace": "",
    "cardnumber": "",
    "costcentre": "",
    "findus": "",
    "ssnnumber": "",
    "zzppass": "",
    "email_invoice": "",
    "email_invoice_company": "",
    "email_invoice_union": "",
}

DEFAULT_ROWS: list[dict[str, Any]] = [
    {
        "product_name": "Koffiebonen Espresso 1kg",
        "product_number": "KB-ESP-1000",
        "count": 2,
        "price": "24.95",
        "tax": 9,
    },
    {"product_name": "Koffiemok wit", "product_number": "MOK-WIT", "count": 1, "price": "12.10"},
]

PAYMETHODS: list[dict[str, Any]] = [
    {"id": 1, "name": "PspIdeal", "label": "iDEAL"},
    {"id": 2, "name": "BankTransfer", "label": "Vooraf overmaken"},
    {"id": 3, "name": "OnAccount", "label": "Op rekening"},
]


def customer(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The default customer with `overrides` merged in (address dicts merge key by key)."""
    overrides = copy.deepcopy(overrides or {})
    billing = {**BILLING_ADDRESS, **overrides.pop("billingaddress", {})}
    delivery = {**BLANK_DELIVERY_ADDRESS, **overrides.pop("deliveryaddress", {})}
    return {
        "billingaddress": billing,
        "deliveryaddress": delivery,
        **_CUSTOMER_TOP_LEVEL,
        **overrides,
    }


def paymethod(name_or_id: str | int) -> dict[str, Any]:
    for method in PAYMETHODS:
        if name_or_id in (method["id"], method["name"]):
            return method
    raise ValueError(f"unknown paymethod {name_or_id!r}; known: {[m['name'] for m in PAYMETHODS]}")

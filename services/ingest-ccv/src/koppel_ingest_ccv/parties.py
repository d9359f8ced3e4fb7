"""CCV's customer and addresses -> the canonical customer and addresses. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from koppel_contracts import Address, Customer

from .amounts import MappingError, text

CcvJson = Mapping[str, Any]

EMAIL = re.compile(r"[^@\s]+@[^@\s]+")

# CCV gives `country_code` null now and then but always the (Dutch) name.
COUNTRY_NAMES = {
    "nederland": "NL",
    "netherlands": "NL",
    "the netherlands": "NL",
    "belgië": "BE",
    "belgie": "BE",
    "belgium": "BE",
    "duitsland": "DE",
    "deutschland": "DE",
    "germany": "DE",
    "frankrijk": "FR",
    "france": "FR",
    "luxemburg": "LU",
    "luxembourg": "LU",
}


def country(address: CcvJson) -> str | None:
    code = text(address.get("country_code"))
    if code:
        return code.upper()
    name = text(address.get("country"))
    return COUNTRY_NAMES.get(name.lower()) if name else None


def address(fields: CcvJson, fallback_country: str | None) -> Address:
    found = country(fields) or fallback_country
    if not found:
        raise MappingError("the address has no country code and an unknown country name")
    first, last = text(fields.get("first_name")), text(fields.get("last_name"))
    street = text(fields.get("street"))
    number = fields.get("housenumber")
    return Address(
        company_name=text(fields.get("company")),
        full_name=text(fields.get("full_name")) or text(" ".join(filter(None, [first, last]))),
        street=street,
        house_number=str(number) if number not in (None, "", 0) else None,
        house_number_suffix=text(fields.get("housenumber_suffix")),
        address_line=None if street else text(fields.get("address_line_1")),
        postal_code=text(fields.get("zipcode")),
        city=text(fields.get("city")),
        country_code=found,
    )


def is_filled(fields: CcvJson) -> bool:
    """CCV sends a blank delivery address when it equals the billing address."""
    return any(text(fields.get(k)) for k in ("street", "address_line_1", "zipcode", "city"))


def email(value: Any) -> str | None:
    # A typo in the customer's e-mail must not stop the booking; debtor
    # matching then falls back to name and address.
    given = text(value)
    return given if given and EMAIL.fullmatch(given) else None


def customer(fields: CcvJson, billing: CcvJson) -> Customer:
    return Customer(
        email=email(fields.get("email")),
        first_name=text(billing.get("first_name")),
        last_name=text(billing.get("last_name")),
        company_name=text(billing.get("company")),
        vat_number=text(fields.get("btw")),
        phone=text(billing.get("telephone")) or text(billing.get("mobile")),
    )

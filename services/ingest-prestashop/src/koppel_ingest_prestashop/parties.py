"""PrestaShop's customer and addresses -> the canonical customer and addresses. Pure.

B2B data live on the address, not the customer (§9): the company and VAT number of the
invoice address are the buyer's. The e-mail is the customer's (guests are customers too).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from koppel_contracts import Address, Customer

from . import records
from .webservice import MappingError

EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


def full_name(first: str | None, last: str | None) -> str | None:
    joined = " ".join(part for part in (first, last) if part)
    return joined or None


def address(found: records.Address, countries: Mapping[int, str]) -> Address:
    country = countries.get(found.id_country)
    if not country:
        raise MappingError(f"address {found.id} has no country (id_country {found.id_country})")
    line = ", ".join(part for part in (found.address1, found.address2) if part)
    return Address(
        company_name=found.company,
        full_name=full_name(found.firstname, found.lastname),
        address_line=line or None,  # PrestaShop keeps street and number in one field
        postal_code=found.postcode,
        city=found.city,
        country_code=country,
    )


def email(value: str | None) -> str | None:
    # A typo in the customer's e-mail must not stop the booking; debtor matching then
    # falls back to name and address.
    return value if value and EMAIL.fullmatch(value) else None


def customer(found: records.Customer, invoice: records.Address) -> Customer:
    return Customer(
        email=email(found.email),
        first_name=invoice.firstname or found.firstname,
        last_name=invoice.lastname or found.lastname,
        company_name=invoice.company or found.company,
        vat_number=invoice.vat_number,
        phone=invoice.phone,
    )

"""The demo merchant's Asperion settings, for `make run`, the e2e harness and tests.

The VAT mapping of an Asperion connection names, per rate and treatment, the UBL VAT
category (`vat_code`) and a revenue account (`ledger_account`: not in the UBL file —
Asperion's import settings choose the sales types — but the booking plan needs one).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from koppel_contracts import (
    AsperionOptions,
    BookingOptions,
    SellerParty,
    SftpTarget,
    VatAccountMapping,
    VatTreatment,
)

# Destination rates the demo merchant charges EU consumers under OSS (vat-nl-eu.md §3).
_OSS = (("DE", "19"), ("DE", "7"), ("BE", "21"), ("BE", "6"), ("FR", "20"), ("FR", "5.5"))


def demo_seller(**overrides: Any) -> SellerParty:
    values: dict[str, Any] = {
        "name": "Koffiebranderij De Demo",
        "street": "Keizersgracht 100",
        "postal_code": "1015 AA",
        "city": "Amsterdam",
        "country_code": "NL",
        "vat_number": "NL000099998B57",  # a test number that passes the checksum
        "kvk_number": "12345678",
        "iban": "NL91ABNA0417164300",
        "email": "verkoop@demo-koffie.example",
    }
    values.update(overrides)
    return SellerParty(**values)


def demo_asperion_options(
    *, bookkeeping_email: str | None = "boekhouding@demo-koffie.example", **overrides: Any
) -> AsperionOptions:
    """The demo merchant as seller, its bookkeeping address and a 06:00 delivery;
    `overrides` e.g. `sftp=SftpTarget(...)`, `delivery_time="07:30"`."""
    values: dict[str, Any] = {
        "seller": demo_seller(),
        "bookkeeping_email": bookkeeping_email,
        "delivery_time": "06:00",
        "year_in_invoice_number": False,
        "payment_term_days": 14,
    }
    values.update(overrides)
    return AsperionOptions(**values)


def demo_booking(**overrides: Any) -> BookingOptions:
    """Every treatment mapped to its UBL category (revenue accounts are Asperion's
    standard 8000-range accounts)."""

    def rate(
        vat_rate: str,
        account: str,
        category: str,
        treatment: VatTreatment,
        country: str | None = None,
    ) -> VatAccountMapping:
        return VatAccountMapping(
            vat_rate=Decimal(vat_rate),
            treatment=treatment,
            country_code=country,
            ledger_account=account,
            vat_code=category,
        )

    values: dict[str, Any] = {
        "vat_accounts": [
            rate("21", "8000", "S", VatTreatment.DOMESTIC),
            rate("9", "8010", "S", VatTreatment.DOMESTIC),
            rate("0", "8020", "Z", VatTreatment.DOMESTIC),
            rate("0", "8100", "K", VatTreatment.ICP),
            rate("0", "8200", "G", VatTreatment.EXPORT),
            *(rate(r, "8300", "S", VatTreatment.OSS, c) for c, r in _OSS),
        ],
    }
    values.update(overrides)
    return BookingOptions(**values)


__all__ = ["SftpTarget", "demo_asperion_options", "demo_booking", "demo_seller"]

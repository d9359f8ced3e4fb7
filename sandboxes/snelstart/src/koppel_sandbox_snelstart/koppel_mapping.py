"""The Koppel booking options that fit the demo administrations: each VAT rate to the
chart's revenue account and SnelStart VAT kind (Hoog 21 %, Laag 9 %, Geen 0 %; ICP, export
and OSS on their own accounts with kind Geen). Used by the demo, its end-to-end test and
the ledger-snelstart tests, so they all book the same way."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from koppel_contracts import BookingOptions, VatAccountMapping, VatTreatment

from .demo import DEMO

# OSS revenue accounts by SnelStart's rate code (SR standard, RRH/RRL reduced high/low).
_OSS = (
    ("BE", "21", "oss_sr"),
    ("BE", "6", "oss_rrl"),
    ("DE", "19", "oss_sr"),
    ("DE", "7", "oss_rrl"),
    ("FR", "20", "oss_sr"),
    ("FR", "5.5", "oss_rrl"),
)


def demo_booking(**overrides: Any) -> BookingOptions:
    def rate(
        vat_rate: str, account: str, kind: str, treatment: VatTreatment, country: str | None = None
    ) -> VatAccountMapping:
        return VatAccountMapping(
            vat_rate=Decimal(vat_rate),
            treatment=treatment,
            country_code=country,
            ledger_account=str(DEMO.accounts[account].nummer),
            vat_code=kind,
        )

    values: dict[str, Any] = {
        "vat_accounts": [
            rate("21", "revenue_hoog", "Hoog", VatTreatment.DOMESTIC),
            rate("9", "revenue_laag", "Laag", VatTreatment.DOMESTIC),
            rate("0", "revenue_geen", "Geen", VatTreatment.DOMESTIC),
            rate("0", "revenue_icp", "Geen", VatTreatment.ICP),
            rate("0", "revenue_export", "Geen", VatTreatment.EXPORT),
            *(rate(r, account, "Geen", VatTreatment.OSS, c) for c, r, account in _OSS),
        ],
    }
    values.update(overrides)
    return BookingOptions(**values)

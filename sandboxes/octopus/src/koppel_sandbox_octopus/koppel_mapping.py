"""The Koppel booking options that fit the demo dossier: VAT rates to the
dossier's revenue accounts and VAT codes. Used by the demo, its end-to-end
test and the ledger-octopus tests, so they all book the same way."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from koppel_contracts import BookingOptions, OctopusOptions, VatAccountMapping, VatTreatment

from .demo import DEMO

_OSS = (
    ("BE", "21", "oss_be_21"),
    ("BE", "6", "oss_be_6"),
    ("DE", "19", "oss_de_19"),
    ("DE", "7", "oss_de_7"),
    ("FR", "20", "oss_fr_20"),
    ("FR", "5.5", "oss_fr_5_5"),
)


def demo_booking(**overrides: Any) -> BookingOptions:
    accounts, codes = DEMO.accounts, DEMO.vat_codes

    def rate(
        vat_rate: str,
        account: str,
        code: str,
        treatment: VatTreatment,
        country: str | None = None,
    ) -> VatAccountMapping:
        return VatAccountMapping(
            vat_rate=Decimal(vat_rate),
            treatment=treatment,
            country_code=country,
            ledger_account=str(accounts[account]),
            vat_code=codes[code],
        )

    values: dict[str, Any] = {
        "vat_accounts": [
            rate("21", "revenue_21", "21", VatTreatment.DOMESTIC),
            rate("9", "revenue_9", "9", VatTreatment.DOMESTIC),
            rate("0", "revenue_0", "0", VatTreatment.DOMESTIC),
            rate("0", "revenue_icp", "icp", VatTreatment.ICP),
            rate("0", "revenue_export", "export", VatTreatment.EXPORT),
            *(rate(r, "revenue_oss", code, VatTreatment.OSS, c) for c, r, code in _OSS),
        ],
    }
    values.update(overrides)
    return BookingOptions(**values)


def demo_octopus(**overrides: Any) -> OctopusOptions:
    """The demo dossier's sales journal; `overrides` e.g. booking_mode, journal."""
    return OctopusOptions(**{"journal": DEMO.journal_sales, **overrides})

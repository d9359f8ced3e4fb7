"""Koppel's booking options for a ledger sandbox's demo data: every demo ledger is set up for
the same VAT situations (Dutch 21 %, 9 % and 0 %, ICP, export, and OSS sales at the standard
and a reduced rate of Belgium, Germany and France); each sandbox says which of its accounts
and VAT codes take each one. The demo, its end-to-end tests and the ledger services' tests
then all book the same way.

Imports `koppel_contracts`, so it is not part of `koppel_sandbox_kit`'s top level.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, NamedTuple

from koppel_contracts import BookingOptions, VatAccountMapping, VatTreatment


class VatSituation(NamedTuple):
    rate: str  # as written in the VAT tables: "21", "5.5"
    treatment: VatTreatment
    country: str | None = None  # OSS: the customer's country


DEMO_VAT_SITUATIONS: tuple[VatSituation, ...] = (
    VatSituation("21", VatTreatment.DOMESTIC),
    VatSituation("9", VatTreatment.DOMESTIC),
    VatSituation("0", VatTreatment.DOMESTIC),
    VatSituation("0", VatTreatment.ICP),
    VatSituation("0", VatTreatment.EXPORT),
    *(
        VatSituation(rate, VatTreatment.OSS, country)
        for country, rate in (
            ("BE", "21"),
            ("BE", "6"),
            ("DE", "19"),
            ("DE", "7"),
            ("FR", "20"),
            ("FR", "5.5"),
        )
    ),
)

AccountAndCode = Callable[[VatSituation], tuple[str, str]]
"""A situation's ledger account number and the ledger's VAT code for it."""


def demo_vat_booking(account_and_code: AccountAndCode, **overrides: Any) -> BookingOptions:
    """`BookingOptions` mapping every demo VAT situation, in the order above; `overrides`
    replace any field (including `vat_accounts`)."""
    mappings = []
    for situation in DEMO_VAT_SITUATIONS:
        account, code = account_and_code(situation)
        mappings.append(
            VatAccountMapping(
                vat_rate=Decimal(situation.rate),
                treatment=situation.treatment,
                country_code=situation.country,
                ledger_account=account,
                vat_code=code,
            )
        )
    values: dict[str, Any] = {"vat_accounts": mappings, **overrides}
    return BookingOptions(**values)

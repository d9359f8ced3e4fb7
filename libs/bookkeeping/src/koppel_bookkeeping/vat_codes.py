"""Do the ledger's VAT codes say what the plan books? A check for ledger services.

The merchant maps each rate to a VAT code of their ledger (`VatAccountMapping.vat_code`).
When the ledger says that code is another percentage (9 % mapped to a code that is 6 %
there, left over from before 2019), the ledger would book or print VAT that is not what
the customer was charged. That is a configuration error: refused before anything is
booked, with what to change.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from .model import BookingPlan
from .refusals import BookingRefused, RefusalCode


def check_vat_codes(
    plan: BookingPlan, percentages: Mapping[str, Decimal | None], *, ledger: str
) -> None:
    """Raise BookingRefused when a VAT code a plan line uses is unknown to the ledger
    (`unknown_vat_code`) or has another percentage there (`vat_code_rate_mismatch`).

    percentages: the ledger's VAT codes and their percentage as the ledger reports it;
    None for a code without a percentage (e.g. reverse charge), which is not compared.
    ledger: the ledger's name for the merchant's text, e.g. "Octopus".
    Lines are checked in plan order; the first problem is the one reported.
    """
    checked: set[tuple[str, Decimal]] = set()
    for line in plan.lines:
        key = (line.vat_code, line.vat_rate)
        if key in checked:
            continue
        checked.add(key)
        params = {
            "order_number": plan.order_number,
            "vat_code": line.vat_code,
            "rate": line.vat_rate,
            "ledger": ledger,
        }
        if line.vat_code not in percentages:
            raise BookingRefused(RefusalCode.UNKNOWN_VAT_CODE, params)
        percentage = percentages[line.vat_code]
        if percentage is not None and percentage != line.vat_rate:
            raise BookingRefused(
                RefusalCode.VAT_CODE_RATE_MISMATCH, {**params, "ledger_rate": percentage}
            )

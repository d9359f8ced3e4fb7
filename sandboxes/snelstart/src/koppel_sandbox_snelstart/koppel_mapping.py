"""The Koppel booking options that fit the demo administrations: each VAT rate to the
chart's revenue account and SnelStart VAT kind (Hoog 21 %, Laag 9 %, Geen 0 %; ICP, export
and OSS on their own accounts with kind Geen). Used by the demo, its end-to-end test and
the ledger-snelstart tests, so they all book the same way."""

from __future__ import annotations

from typing import Any

from koppel_contracts import BookingOptions, VatTreatment
from koppel_sandbox_kit.koppel_options import VatSituation, demo_vat_booking

from .demo import DEMO

_DOMESTIC_KIND = {"21": "Hoog", "9": "Laag", "0": "Geen"}
# OSS revenue by SnelStart's rate code: SR the standard rate, RRL the (low) reduced one.
_OSS_STANDARD_RATES = {"21", "19", "20"}


def _account_and_kind(situation: VatSituation) -> tuple[str, str]:
    if situation.treatment is VatTreatment.DOMESTIC:
        kind = _DOMESTIC_KIND[situation.rate]
        key = f"revenue_{kind.lower()}"
    elif situation.treatment is VatTreatment.OSS:
        kind = "Geen"
        key = "oss_sr" if situation.rate in _OSS_STANDARD_RATES else "oss_rrl"
    else:
        kind = "Geen"
        key = f"revenue_{situation.treatment.value}"
    return str(DEMO.accounts[key].nummer), kind


def demo_booking(**overrides: Any) -> BookingOptions:
    return demo_vat_booking(_account_and_kind, **overrides)

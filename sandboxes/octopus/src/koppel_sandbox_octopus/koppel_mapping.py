"""The Koppel booking options that fit the demo dossier: VAT rates to the
dossier's revenue accounts and VAT codes. Used by the demo, its end-to-end
test and the ledger-octopus tests, so they all book the same way."""

from __future__ import annotations

from typing import Any

from koppel_contracts import BookingOptions, OctopusOptions, VatTreatment
from koppel_sandbox_kit.koppel_options import VatSituation, demo_vat_booking

from .demo import DEMO


def _account_and_code(situation: VatSituation) -> tuple[str, str]:
    """The dossier's names: `revenue_21` / VAT code `21` at home, `revenue_icp` / `icp`,
    and one OSS account with a code per country and rate (`oss_fr_5_5`)."""
    if situation.treatment is VatTreatment.OSS:
        country, rate = str(situation.country).lower(), situation.rate.replace(".", "_")
        return str(DEMO.accounts["revenue_oss"]), DEMO.vat_codes[f"oss_{country}_{rate}"]
    domestic = situation.treatment is VatTreatment.DOMESTIC
    name = situation.rate if domestic else situation.treatment.value
    return str(DEMO.accounts[f"revenue_{name}"]), DEMO.vat_codes[name]


def demo_booking(**overrides: Any) -> BookingOptions:
    return demo_vat_booking(_account_and_code, **overrides)


def demo_octopus(**overrides: Any) -> OctopusOptions:
    """The demo dossier's sales journal; `overrides` e.g. booking_mode, journal."""
    return OctopusOptions(**{"journal": DEMO.journal_sales, **overrides})

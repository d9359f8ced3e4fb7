"""Shared fixtures: merchant booking options that cover every treatment the tests use."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest
from koppel_contracts import BookingOptions, ChargeVat, VatAccountMapping, VatTreatment

# The property tests share their generated orders (bookkeeping_strategies.py); tests run
# with --import-mode=importlib, so this folder is put on the path for that one module.
sys.path.insert(0, str(Path(__file__).parent))


def _account(rate: str, treatment: VatTreatment, account: str, code: str, country=None):
    return VatAccountMapping(
        vat_rate=Decimal(rate),
        treatment=treatment,
        country_code=country,
        ledger_account=account,
        vat_code=code,
    )


FULL_MAPPING = BookingOptions(
    vat_accounts=[
        _account("21", VatTreatment.DOMESTIC, "8000", "VH"),
        _account("9", VatTreatment.DOMESTIC, "8010", "VL"),
        _account("0", VatTreatment.DOMESTIC, "8020", "V0"),
        _account("19", VatTreatment.OSS, "8100", "OSS-DE-19", "DE"),
        _account("7", VatTreatment.OSS, "8101", "OSS-DE-7", "DE"),
        _account("0", VatTreatment.OSS, "8102", "OSS-DE-0", "DE"),
        _account("0", VatTreatment.ICP, "8200", "ICP"),
        _account("0", VatTreatment.EXPORT, "8300", "EXP"),
    ]
)

DOMESTIC_ONLY = BookingOptions(vat_accounts=FULL_MAPPING.vat_accounts[:3])
# The same accounts for a merchant who has shipping and costs split over the goods' rates.
RESPLIT_MAPPING = FULL_MAPPING.model_copy(update={"charge_vat": ChargeVat.RESPLIT})


@pytest.fixture(scope="session")  # session: hypothesis tests use it too
def mapping() -> BookingOptions:
    return FULL_MAPPING


@pytest.fixture(scope="session")
def resplit_mapping() -> BookingOptions:
    return RESPLIT_MAPPING


@pytest.fixture(scope="session")
def domestic_mapping() -> BookingOptions:
    return DOMESTIC_ONLY

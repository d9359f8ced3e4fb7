"""Koppel's Asperion ledger service: canonical orders become validated UBL 2.1 invoices and
credit notes, delivered once a day per merchant as one ZIP file."""

from .app import build
from .demo import demo_asperion_options, demo_booking, demo_seller
from .settings import LedgerAsperionSettings

__all__ = [
    "LedgerAsperionSettings",
    "build",
    "demo_asperion_options",
    "demo_booking",
    "demo_seller",
]

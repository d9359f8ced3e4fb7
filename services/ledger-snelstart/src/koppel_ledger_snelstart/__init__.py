"""Koppel's SnelStart ledger service: canonical orders become sales bookings."""

from .app import build
from .settings import LedgerSnelStartSettings

__all__ = ["LedgerSnelStartSettings", "build"]

"""Koppel's Octopus ledger service: canonical orders become concept sales invoices."""

from .app import build
from .settings import LedgerOctopusSettings

__all__ = ["LedgerOctopusSettings", "build"]

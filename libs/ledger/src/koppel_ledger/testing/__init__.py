"""Contract suites of the ledger runtime (pytest). `StoreContract`: every order store and
hold store; `LedgerContract`: every ledger adapter, against its own sandbox."""

from .contract import LedgerContract, SimulatedCrash
from .driver import CONNECTION, Driver, HeldDocument, LedgerHarness
from .stores import StoreContract

__all__ = [
    "CONNECTION",
    "Driver",
    "HeldDocument",
    "LedgerContract",
    "LedgerHarness",
    "SimulatedCrash",
    "StoreContract",
]

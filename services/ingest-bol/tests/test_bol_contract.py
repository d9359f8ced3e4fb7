"""ingest-bol passes the ingest runtime's shop contract against the bol sandbox, driven
by the real runtime without Kafka (`harness`: conftest, `bol_harness.py`)."""

from __future__ import annotations

from koppel_ingest.testing import ShopContract


class TestBolContract(ShopContract):
    """Everything the runtime promises, with bol.com behind it."""

"""ingest-prestashop passes the ingest runtime's shop contract against the PrestaShop
sandbox, driven by the real runtime without Kafka."""

from __future__ import annotations

from koppel_ingest.testing import ShopContract


class TestPrestashopContract(ShopContract):
    """Everything the runtime promises, with PrestaShop behind it (`harness`: conftest)."""

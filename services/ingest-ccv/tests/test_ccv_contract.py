"""ingest-ccv passes the ingest runtime's shop contract (and its webhook part) against the
CCV Shop sandbox, driven by the real runtime without Kafka."""

from __future__ import annotations

from koppel_ingest.testing import ShopContract, WebhookContract


class TestCcvContract(ShopContract, WebhookContract):
    """Everything the runtime promises, with CCV Shop behind it (`harness`: conftest)."""

"""Contract suites of the ingest runtime (pytest). `StoreContract`: every order store,
state store and lease store; `ShopContract` (+ `WebhookContract`): every shop adapter,
against its own sandbox, driven by the real runtime without Kafka."""

from .contract import ShopContract, WebhookContract
from .driver import CONNECTION, POLICY, Driver, Published, ShopHarness, WebhookHarness
from .stores import StoreContract

__all__ = [
    "CONNECTION",
    "POLICY",
    "Driver",
    "Published",
    "ShopContract",
    "ShopHarness",
    "StoreContract",
    "WebhookContract",
    "WebhookHarness",
]

"""A CCV Shop sandbox as the ingest runtime's contract suite wants it (`ShopHarness`,
`WebhookHarness`), for the contract and the CCV tests that drive the runtime directly."""

from __future__ import annotations

import json

from koppel_chassis import SecretBox
from koppel_contracts import (
    ConnectionSettings,
    LedgerConnection,
    LedgerSystem,
    Merchant,
    ShopConnection,
    ShopOptions,
    ShopSystem,
)
from koppel_ingest_ccv.adapter import CcvAdapter
from koppel_ingest_ccv.settings import IngestCcvSettings
from koppel_sandbox_ccvshop import ApiKey, CcvShopControl

# The client's budget per resource, and the sandbox's limit in `limit_rate`.
BUDGET, WINDOW = 6, 0.5
ROWS = [{"product_name": "Koffiebonen Espresso 1kg", "count": 3, "price": "24.95", "tax": 9}]


class CcvHarness:
    max_attempts = 3
    budget = BUDGET

    def __init__(self, url: str, control: CcvShopControl, key: ApiKey, box: SecretBox) -> None:
        self.url = url
        self.control = control
        self.key = key
        self.box = box
        self.adapter = self.new_adapter()

    def new_adapter(self) -> CcvAdapter:
        settings = IngestCcvSettings(
            ccv_max_attempts=self.max_attempts,
            ccv_get_budget=BUDGET,
            ccv_write_budget=BUDGET,
            ccv_budget_window_seconds=WINDOW,
            ccv_timeout_seconds=5.0,
        )
        return CcvAdapter(settings, self.box)

    def settings(self) -> ConnectionSettings:
        return ConnectionSettings(
            merchant=Merchant(name="Koffiebranderij De Boon", contact_email="info@deboon.nl"),
            shop=ShopConnection(
                system=ShopSystem.CCVSHOP,
                base_url=self.url,
                account_id=self.key.public,
                credentials={"api_secret": self.box.encrypt(self.key.secret)},
                options=ShopOptions(trigger_statuses=["paid"]),
            ),
            ledger=LedgerConnection(system=LedgerSystem.OCTOPUS, base_url="https://octopus.test"),
        )

    async def place_order(self, *, bookable: bool = True) -> str:
        return str((await self.control.seed_order(paid=bookable))["id"])

    async def make_bookable(self, source_order_id: str) -> None:
        await self.control.mark_paid(int(source_order_id))

    async def progress(self, source_order_id: str) -> None:
        await self.control.set_status(int(source_order_id), 5)  # sent

    async def change_order(self, source_order_id: str) -> None:
        await self.control.edit_order(int(source_order_id), rows=ROWS)  # a re-issue

    async def cancel_order(self, source_order_id: str) -> None:
        await self.control.cancel_order(int(source_order_id))

    async def place_malformed_order(self) -> str:
        # CCV's own total disagrees with its rows, shipping and discounts.
        order = await self.control.seed_order(paid=True, overrides={"total_price": "12.34"})
        return str(order["id"])

    async def refuse_credentials(self) -> ConnectionSettings:
        self.key = await self.control.change_secret(self.key.public)
        return self.settings()

    async def fail_requests(self, status: int, times: int) -> None:
        code = "429.10" if status == 429 else f"{status}.10"
        body = {"code": code, "status": status, "developermessage": "injected"}
        await self.control.inject_fault(status, path="/api/rest/v1/", times=times, body=body)

    async def clear_faults(self) -> None:
        await self.control.clear_faults()

    async def faults_pending(self) -> int:
        return sum(rule["times"] for rule in (await self.control.faults())["pending"])

    async def requests(self) -> int:
        # Injected faults answer in front of the API, which counts the rest.
        answered = (await self.control.counters())["requests"]
        return answered + (await self.control.faults())["injected"]

    async def limit_rate(self) -> None:
        await self.control.set_rate_limits(get=BUDGET, write=BUDGET, window_seconds=WINDOW)

    async def rate_limited(self) -> int:
        return (await self.control.counters())["rate_limited"]

    # ---- webhooks ------------------------------------------------------------------------

    def announcement(self, source_order_id: str) -> bytes:
        return json.dumps({"id": int(source_order_id), "order_number": 1, "paid": True}).encode()

    async def break_webhook_signatures(self) -> None:
        await self.control.configure(webhook_signature="base64_body")

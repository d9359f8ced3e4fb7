"""A bol sandbox as the ingest runtime's contract suite wants it (`ShopHarness`), for the
contract and the bol tests that drive the runtime directly.

The connection's trigger is `shipped`, so an order placed and not shipped is "not
bookable yet"; an edit of a shipped order is a handled return (an amendment), a
cancellation cancels what is open and takes back (returns) what was shipped."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

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
from koppel_ingest_bol.adapter import BolAdapter
from koppel_ingest_bol.calls import BolMetrics
from koppel_ingest_bol.returns import MemoryReturns
from koppel_ingest_bol.settings import DEFAULT_RATE_LIMITS, IngestBolSettings
from koppel_sandbox_bol import RESPONSE_TYPE, BolControl, Credentials
from prometheus_client import CollectorRegistry

# The client's budget per endpoint group, and the sandbox's limit in `limit_rate`. The
# sandbox's windows run on whole seconds: a window of whole seconds keeps them aligned.
BUDGET, WINDOW = 6, 1.0
BOOK = "9789046829998"  # 12.99, a book: 9 % in the connection's EAN table
CHARGER = "8718526040210"  # 29.95, electronics: the default 21 %


class BolHarness:
    max_attempts = 3
    budget = BUDGET

    def __init__(
        self, url: str, control: BolControl, credentials: Credentials, box: SecretBox
    ) -> None:
        self.url = url
        self.control = control
        self.credentials = credentials
        self.box = box
        self.returns = MemoryReturns()  # one database, whichever replica
        self.registry = CollectorRegistry()
        self.metrics = BolMetrics(self.registry)
        self._returned: Counter[str] = Counter()
        self.trigger = ["shipped"]
        self.adapter = self.new_adapter(self.metrics)

    def service_settings(self, **overrides: Any) -> IngestBolSettings:
        values: dict[str, Any] = {
            "max_attempts": self.max_attempts,
            "rate_limits": {group: (BUDGET, WINDOW) for group in DEFAULT_RATE_LIMITS},
            "budget_share": 1.0,
            "timeout_seconds": 5.0,
            **overrides,
        }
        return IngestBolSettings(**values)

    def new_adapter(self, metrics: BolMetrics | None = None) -> BolAdapter:
        return BolAdapter(self.service_settings(), self.box, self.returns, metrics)

    def options(self, **changes: Any) -> ShopOptions:
        values: dict[str, Any] = {
            "trigger_statuses": self.trigger,
            "vat_by_ean": {BOOK: Decimal("9")},
            **changes,
        }
        return ShopOptions(**values)

    def settings(
        self, *, ledger: LedgerConnection | None = None, **options: Any
    ) -> ConnectionSettings:
        return ConnectionSettings(
            merchant=Merchant(name="Boekhandel De Bladwijzer", contact_email="info@bladwijzer.nl"),
            shop=ShopConnection(
                system=ShopSystem.BOL,
                base_url=self.url,
                account_id=self.credentials.client_id,
                credentials={"client_secret": self.box.encrypt(self.credentials.client_secret)},
                options=self.options(**options),
            ),
            ledger=ledger
            or LedgerConnection(system=LedgerSystem.OCTOPUS, base_url="https://octopus.test"),
        )

    # ---- the shop's side -------------------------------------------------------------------

    async def place_order(self, *, bookable: bool = True, **spec: Any) -> str:
        spec.setdefault("items", [{"ean": BOOK, "quantity": 2}, {"ean": CHARGER}])
        order = await self.control.place_order(ship=bookable, **spec)
        return str(order["orderId"])

    async def make_bookable(self, source_order_id: str) -> None:
        await self.control.ship(source_order_id)

    async def _first_item(self, source_order_id: str) -> str:
        order = await self.control.order(source_order_id)
        return str(order["orderItems"][0]["orderItemId"])

    async def progress(self, source_order_id: str) -> None:
        # A return bol rejects: handled, but nothing is credited.
        item = await self._first_item(source_order_id)
        await self.control.create_return(item, 1, handlingResult="RETURN_DOES_NOT_MEET_CONDITIONS")

    async def change_order(self, source_order_id: str) -> None:
        await self.give_back(await self._first_item(source_order_id), 1)

    async def give_back(self, order_item_id: str, quantity: int) -> None:
        """A return of shipped units, handled and credited."""
        await self.control.create_return(order_item_id, quantity, handlingResult="RETURN_RECEIVED")
        self._returned[order_item_id] += quantity

    async def cancel_order(self, source_order_id: str) -> None:
        order = await self.control.order(source_order_id)
        items = order["orderItems"]
        if any(i["quantity"] > i["quantityShipped"] + i["quantityCancelled"] for i in items):
            await self.control.cancel(source_order_id)
        for item in items:
            left = item["quantityShipped"] - self._returned[item["orderItemId"]]
            if left > 0:
                await self.give_back(item["orderItemId"], left)

    async def place_malformed_order(self) -> str:
        # A discount larger than the line: what the buyer paid would be negative.
        items = [{"ean": BOOK, "discounts": [{"title": "Actie", "amount": "20.00"}]}]
        return await self.place_order(items=items)

    async def refuse_credentials(self) -> ConnectionSettings:
        self.credentials = await self.control.replace_credentials()
        return self.settings()

    # ---- faults and counts -----------------------------------------------------------------

    async def fail_requests(self, status: int, times: int) -> None:
        title = "Too Many Requests" if status == 429 else "Service Unavailable"
        headers = {"content-type": RESPONSE_TYPE}
        if status == 429:
            headers["retry-after"] = "1"
        body = {"title": title, "status": status, "detail": "injected"}
        await self.control.inject_fault(
            status, path="^/retailer/", times=times, body=body, headers=headers
        )

    async def clear_faults(self) -> None:
        await self.control.clear_faults()

    async def faults_pending(self) -> int:
        return sum(rule["times"] for rule in (await self.control.faults())["pending"])

    async def requests(self) -> int:
        # Injected faults answer in front of the API, which counts the rest.
        answered = (await self.control.calls())["total"]
        return int(answered) + int((await self.control.faults())["injected"])

    async def limit_rate(self) -> None:
        for group in DEFAULT_RATE_LIMITS:
            await self.control.set_rate_limit(group, BUDGET, WINDOW)

    async def rate_limited(self) -> int:
        return sum((await self.control.calls())["rateLimited"].values())

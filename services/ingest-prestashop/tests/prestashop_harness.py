"""A PrestaShop sandbox as the ingest runtime's contract suite wants it (`ShopHarness`), for
the contract and the PrestaShop tests that drive the runtime directly."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from koppel_chassis import SecretBox
from koppel_contracts import (
    CanonicalOrder,
    ConnectionSettings,
    LedgerConnection,
    LedgerSystem,
    Merchant,
    ShopConnection,
    ShopOptions,
    ShopSystem,
)
from koppel_ingest_prestashop.adapter import PrestashopAdapter, PrestashopSession
from koppel_ingest_prestashop.settings import IngestPrestashopSettings
from koppel_sandbox_prestashop import PrestaShopControl

KEY = "KOPPELTEST0PRESTASHOP0000000KEY1"  # 32 characters, as PrestaShop requires
# The client's budget per connection, and the sandbox's (hosting) limit in `limit_rate`.
BUDGET, WINDOW = 20, 0.25
PAID, AWAITING_WIRE, SHIPPED = 2, 10, 4
COFFEE = {"name": "Koffiebonen Espresso 1 kg", "price_tax_incl": "24.95", "tax_rate": "9"}
MUG = {"name": "Koffiemok wit 300 ml", "price_tax_incl": "12.10", "tax_rate": "21"}


class PrestashopHarness:
    max_attempts = 3
    budget = BUDGET

    def __init__(self, url: str, control: PrestaShopControl, box: SecretBox) -> None:
        self.url = url
        self.control = control
        self.box = box
        self.key = KEY
        self.triggers: list[str] = ["paid"]
        self._connection: tuple[tuple[str, tuple[str, ...]], ConnectionSettings] | None = None
        self.adapter = self.new_adapter()

    def new_adapter(self, **overrides: Any) -> PrestashopAdapter:
        settings = IngestPrestashopSettings(
            prestashop_max_attempts=self.max_attempts,
            prestashop_request_budget=BUDGET,
            prestashop_budget_window_seconds=WINDOW,
            prestashop_timeout_seconds=5.0,
            **overrides,
        )
        return PrestashopAdapter(settings, self.box)

    def settings(self, **shop: Any) -> ConnectionSettings:
        return ConnectionSettings(
            merchant=Merchant(name="Koffiebranderij De Boon", contact_email="info@deboon.nl"),
            shop=ShopConnection(
                system=ShopSystem.PRESTASHOP,
                base_url=shop.pop("base_url", self.url),
                credentials={"webservice_key": self.box.encrypt(shop.pop("key", self.key))},
                options=ShopOptions(trigger_statuses=shop.pop("triggers", self.triggers)),
                **shop,
            ),
            ledger=LedgerConnection(system=LedgerSystem.OCTOPUS, base_url="https://octopus.test"),
        )

    async def session(self) -> PrestashopSession:
        """The adapter's session for the current key (one client while the key stays: the
        key is encrypted afresh by every `settings()`, and a new ciphertext is a new client)."""
        if self._connection is None or self._connection[0] != (self.key, tuple(self.triggers)):
            self._connection = ((self.key, tuple(self.triggers)), self.settings())
        return await self.adapter.session("harness", self._connection[1])

    async def place_order(self, *, bookable: bool = True, **spec: Any) -> str:
        spec.setdefault("rows", [{**COFFEE, "quantity": 2}, {**MUG, "quantity": 1}])
        created = await self.control.create_order(state=PAID if bookable else AWAITING_WIRE, **spec)
        return str(created["order"]["id"])

    async def make_bookable(self, source_order_id: str) -> None:
        await self.control.set_state(int(source_order_id), PAID)

    async def progress(self, source_order_id: str) -> None:
        await self.control.set_state(int(source_order_id), SHIPPED)

    async def change_order(self, source_order_id: str) -> None:
        await self.control.edit_order(int(source_order_id), rows=[{**COFFEE, "quantity": 3}])

    async def cancel_order(self, source_order_id: str) -> None:
        await self.control.cancel_order(int(source_order_id))

    async def place_malformed_order(self) -> str:
        order = await self.place_order()
        # The shop's own total disagrees with its lines, shipping and discounts.
        bad = {"total_paid_tax_incl": "12.340000", "total_paid": "12.340000"}
        await self.control.malform(int(order), order=bad)
        return order

    async def refuse_credentials(self) -> ConnectionSettings:
        await self.control.change_key(self.key, active=False)
        self.key = await self.control.create_key("read")
        return self.settings()

    async def fail_requests(self, status: int, times: int) -> None:
        await self.control.inject_fault(status, path="^/api/", times=times)

    async def clear_faults(self) -> None:
        await self.control.clear_faults()

    async def faults_pending(self) -> int:
        return sum(rule["times"] for rule in (await self.control.faults())["pending"])

    async def requests(self) -> int:
        # Injected faults answer in front of the webservice, which counts the rest.
        answered = (await self.control.counters())["requests"]
        return answered + (await self.control.faults())["injected"]

    async def limit_rate(self) -> None:
        await self.control.set_host_limit(BUDGET, WINDOW)

    async def rate_limited(self) -> int:
        return (await self.control.counters())["rate_limited"]

    # ---- reading one order the way the runtime does ------------------------------------------

    async def observe(self, source_order_id: str) -> Any:
        """The order as `fetch` reports it (a `ShopOrder`)."""
        session = await self.session()
        found = await session.fetch(source_order_id)
        assert found is not None, f"order {source_order_id} not found"
        return found

    async def canonical(self, source_order_id: str) -> Any:
        """The order through fetch + mapping (a `CanonicalOrder`)."""
        session = await self.session()
        return await session.canonical(await self.observe(source_order_id))


def vat_by_rate(order: CanonicalOrder) -> dict[Decimal, Decimal]:
    """The VAT the order's parts carry, per rate (lines - discounts + shipping)."""
    vat: dict[Decimal, Decimal] = defaultdict(Decimal)
    for line in order.lines:
        vat[line.vat_rate] += line.total_incl_vat - line.total_excl_vat
    for discount in order.discounts:
        assert discount.vat_rate is not None
        vat[discount.vat_rate] -= discount.amount_incl_vat - discount.amount_excl_vat
    if (shipping := order.shipping) is not None:
        assert shipping.vat_rate is not None
        vat[shipping.vat_rate] += shipping.amount_incl_vat - shipping.amount_excl_vat
    return dict(vat)

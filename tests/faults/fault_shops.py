"""The shop side of each pair: place a paid order in the shop's sandbox, cancel it, and say
which orders the sandbox had before the run (Koppel may book those too; they are not the
run's). The run talks to the sandboxes directly, not through its fault proxies."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from fault_orders import UNMAPPED_RATE, PlannedOrder, vat_in
from koppel_demo.system import SystemConfig
from koppel_sandbox_ccvshop import CcvShopControl


@dataclass(frozen=True)
class PlacedOrder:
    pair: str
    number: str  # the order number the ledger books it under
    shop_id: str  # the shop's own id, to cancel it
    total: Decimal
    vat: dict[Decimal, Decimal]  # VAT per rate as the shop charged it
    refused: bool
    cancel: bool
    placed_at: float  # monotonic


class Shop(Protocol):
    sandbox: str  # the sandbox process (a fault target)
    port_field: str  # its field in `Ports`

    async def place(self, config: SystemConfig, planned: PlannedOrder) -> PlacedOrder: ...
    async def cancel(self, config: SystemConfig, order: PlacedOrder) -> None: ...
    async def preexisting(self, config: SystemConfig) -> set[str]: ...


# ==== shops =======================================================================================


@dataclass
class CcvShop:
    sandbox: str
    port_field: str
    _clients: dict[str, CcvShopControl] = field(default_factory=dict)

    def control(self, config: SystemConfig) -> CcvShopControl:
        url = config.url(getattr(config.ports, self.port_field))
        if url not in self._clients:
            self._clients[url] = CcvShopControl(url, timeout=60)
        return self._clients[url]

    async def place(self, config: SystemConfig, planned: PlannedOrder) -> PlacedOrder:
        shop = self.control(config)
        rows = [
            {
                "product_name": line.name,
                "count": line.quantity,
                "price": str(line.unit_price),
                "tax": int(line.rate),
            }
            for line in planned.lines
        ]
        customer = {"email": f"klant{planned.customer}@faults.example"}
        order = await shop.seed_order(rows=rows, customer=customer)
        await shop.mark_paid(order["id"])
        vat = planned.goods_vat
        shipping = Decimal(str(order["total_shipping"]))
        if shipping:
            rate = Decimal(str(order["shipping_tax_percentage"]))
            vat[rate] = vat.get(rate, Decimal(0)) + vat_in(shipping, rate)
        return PlacedOrder(
            planned.pair,
            str(order["ordernumber_full"]),
            str(order["id"]),
            Decimal(str(order["total_price"])),
            vat,
            planned.refused,
            planned.cancel,
            time.monotonic(),
        )

    async def cancel(self, config: SystemConfig, order: PlacedOrder) -> None:
        await self.control(config).cancel_order(int(order.shop_id))

    async def preexisting(self, config: SystemConfig) -> set[str]:
        return set()  # the CCV sandbox starts without orders

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()


@dataclass
class PrestaShopShop:
    sandbox: str = "prestashop-sandbox"
    port_field: str = "prestashop"

    def _url(self, config: SystemConfig) -> str:
        return config.url(getattr(config.ports, self.port_field))

    async def place(self, config: SystemConfig, planned: PlannedOrder) -> PlacedOrder:
        from koppel_demo.prestashop import PAID
        from koppel_sandbox_prestashop import PrestaShopControl

        rows = [
            {
                "name": line.name,
                "price_tax_incl": str(line.unit_price),
                "tax_rate": str(line.rate),
                "quantity": line.quantity,
            }
            for line in planned.lines
        ]
        customer = {
            "email": f"klant{planned.customer}@faults.example",
            "firstname": "Klant",
            "lastname": str(planned.customer),
        }
        async with PrestaShopControl(self._url(config), timeout=60) as shop:
            placed = await shop.create_order(customer=customer, rows=rows, state=PAID)
        order, details = placed["order"], placed["order_details"]
        vat: dict[Decimal, Decimal] = {}
        for line, detail in zip(planned.lines, details, strict=True):
            charged = _money(detail["total_price_tax_incl"]) - _money(
                detail["total_price_tax_excl"]
            )
            vat[line.rate] = vat.get(line.rate, Decimal(0)) + charged
        shipping = _money(order["total_shipping_tax_incl"]) - _money(
            order["total_shipping_tax_excl"]
        )
        if _money(order["total_shipping_tax_incl"]):
            rate = Decimal(str(order["carrier_tax_rate"])).normalize()
            vat[rate] = vat.get(rate, Decimal(0)) + shipping
        return PlacedOrder(
            planned.pair,
            str(order["reference"]),
            str(order["id"]),
            _money(order["total_paid_tax_incl"]),
            vat,
            planned.refused,
            planned.cancel,
            time.monotonic(),
        )

    async def cancel(self, config: SystemConfig, order: PlacedOrder) -> None:
        from koppel_sandbox_prestashop import PrestaShopControl

        async with PrestaShopControl(self._url(config), timeout=60) as shop:
            await shop.cancel_order(int(order.shop_id))

    async def preexisting(self, config: SystemConfig) -> set[str]:
        """The sandbox's demo shop places orders of its own when it starts: Koppel books
        those too, and they are not the run's."""
        from koppel_demo.prestashop import newest_order_id
        from koppel_sandbox_prestashop import PrestaShopControl

        newest = await newest_order_id(config) or 0
        async with PrestaShopControl(self._url(config), timeout=60) as shop:
            return {str((await shop.order(i))["order"]["reference"]) for i in range(1, newest + 1)}


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


# Bol.com gives no VAT: the connection's EAN table does. The run's connection is the demo's
# with one more EAN, at the rate no ledger account is mapped to (the refused orders).
BOL_EAN_BY_RATE = {
    Decimal(9): "9789046829998",  # the demo's paperback (9 %)
    Decimal(21): "8718526040111",  # the demo's earbuds (21 %)
    UNMAPPED_RATE: "8718526040319",  # the demo's watch, mapped to 6 % in the run's table
}


@dataclass
class BolShop:
    """The Bol.com sandbox's demo retailer: an order is bookable once placed (the buyer has
    paid by then), each line one item at the line's price, its EAN chosen by the rate."""

    sandbox: str = "bol-sandbox"
    port_field: str = "bol"

    async def place(self, config: SystemConfig, planned: PlannedOrder) -> PlacedOrder:
        from koppel_demo.bol import bol_control, order_total

        items = [
            {
                "ean": BOL_EAN_BY_RATE[line.rate],
                "title": line.name,
                "unitPrice": str(line.unit_price),
                "quantity": line.quantity,
            }
            for line in planned.lines
        ]
        async with bol_control(config) as bol:
            order = await bol.place_order(items=items)
        return PlacedOrder(
            planned.pair,
            str(order["orderId"]),
            str(order["orderId"]),
            order_total(order),
            planned.goods_vat,  # per line, incl. x rate / (100 + rate): what ingest-bol does
            planned.refused,
            planned.cancel,
            time.monotonic(),
        )

    async def cancel(self, config: SystemConfig, order: PlacedOrder) -> None:
        from koppel_demo.bol import bol_control

        async with bol_control(config) as bol:
            await bol.cancel(order.shop_id)

    async def preexisting(self, config: SystemConfig) -> set[str]:
        # The sandbox's own demo orders were placed before the connection: ingest-bol leaves
        # them alone (`connect_bol`; tests/e2e/test_bol.py pins it), so none is in the books.
        return set()

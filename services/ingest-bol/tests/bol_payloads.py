"""bol payloads as the sandbox renders them (no sockets): the shapes of bol's v10 spec,
through JSON and back, as the client reads them (amounts as Decimal)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from koppel_ingest_bol.client import BolJson, parse_json
from koppel_sandbox_bol import DEMO_PRODUCTS, BolState, ManualClock
from koppel_sandbox_bol.account import Account
from koppel_sandbox_bol.jsonio import dumps
from koppel_sandbox_bol.placing import place_order
from koppel_sandbox_bol.render import order as render_order
from koppel_sandbox_bol.render import return_, shipment

from .bol_harness import BOOK, CHARGER

EARBUDS = "8718526040111"  # 49.99, in none of the tables
START = "2026-03-16T09:00:00+00:00"


def as_bol(data: Any) -> Any:
    return parse_json(dumps(data))


class Shop:
    """One account of a sandbox state, driven directly."""

    def __init__(self) -> None:
        self.clock = ManualClock(datetime.fromisoformat(START))
        self.state = BolState(self.clock)
        self.account: Account = self.state.add_account(name="Boekhandel")
        self.account.products = {p.ean: p for p in DEMO_PRODUCTS}

    def place(self, **spec: Any) -> str:
        spec.setdefault("items", [{"ean": BOOK}, {"ean": CHARGER}])
        return place_order(self.account, spec).order_id

    def item_ids(self, order_id: str) -> list[str]:
        return [i.order_item_id for i in self.account.order(order_id).items]

    def detail(self, order_id: str) -> BolJson:
        result: BolJson = as_bol(render_order(self.account.order(order_id)))
        return result

    def shipments(self, order_id: str) -> list[BolJson]:
        return [
            as_bol(shipment(s))
            for s in self.account.shipments.values()
            if s.order.order_id == order_id
        ]

    def returns(self) -> list[BolJson]:
        return [as_bol(return_(r, detail=False)) for r in self.account.returns.values()]

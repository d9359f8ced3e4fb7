"""One retailer account and what happens to it: a buyer orders, the seller (or bol,
for FBB) ships, items are cancelled, returns come in and are handled, business
buyers ask for invoices and the seller uploads them (those two in `aftersales.py`).
Reads live in `queries.py`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from .aftersales import AfterSales, Refused
from .model import (
    InvoiceRequest,
    Order,
    OrderItem,
    ProcessStatus,
    Product,
    Return,
    ReturnItem,
    Shipment,
    ShipmentLine,
    Transport,
    UploadedInvoice,
)

if TYPE_CHECKING:
    from .state import BolState


class Account(AfterSales):
    def __init__(
        self, *, retailer_id: str, client_id: str, client_secret: str, name: str, state: BolState
    ) -> None:
        self.retailer_id = retailer_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.name = name
        self.state = state
        self.active = True
        self.products: dict[str, Product] = {}
        self.clear()

    def clear(self) -> None:
        self.orders: dict[str, Order] = {}
        self.shipments: dict[str, Shipment] = {}
        self.returns: dict[str, Return] = {}
        self.invoice_requests: dict[str, InvoiceRequest] = {}  # by shipment id
        self.invoices: dict[str, list[UploadedInvoice]] = {}  # by shipment id
        self.process_statuses: dict[str, ProcessStatus] = {}
        self.calls: Counter[str] = Counter()
        self.rate_limited: Counter[str] = Counter()

    def now(self) -> datetime:
        return self.state.now()

    def _id(self, kind: str) -> str:
        return self.state.ids.next(kind)

    # --- lookups ----------------------------------------------------------------

    def order(self, order_id: str) -> Order:
        order = self.orders.get(order_id)
        if order is None:
            raise LookupError(f"Order for order id {order_id} not found.")
        return order

    def find_item(self, order_item_id: str) -> tuple[Order, OrderItem] | None:
        for order in self.orders.values():
            item = order.item(order_item_id)
            if item is not None:
                return order, item
        return None

    def shipment(self, shipment_id: str) -> Shipment:
        shipment = self.shipments.get(shipment_id)
        if shipment is None:
            raise LookupError(f"Shipment for shipment id {shipment_id} not found.")
        return shipment

    def return_item(self, rma_id: str) -> ReturnItem | None:
        for ret in self.returns.values():
            for item in ret.items:
                if item.rma_id == rma_id:
                    return item
        return None

    # --- orders -------------------------------------------------------------------

    def add_order(self, order: Order) -> Order:
        self.orders[order.order_id] = order
        return order

    def ship(
        self,
        order_id: str,
        lines: Iterable[tuple[str, int | None]] | None = None,
        *,
        reference: str = "",
        transporter_code: str = "POSTNL",
        track_and_trace: str | None = None,
        shipping_label_id: str | None = None,
        at: datetime | None = None,
    ) -> Shipment:
        """Ship (part of) an order: `lines` are (order item id, quantity or None for
        all that is open); None ships everything open. One shipment, one method."""
        order = self.order(order_id)
        at = at or self.now()
        wanted = (
            list(lines) if lines is not None else [(i.order_item_id, None) for i in order.items]
        )
        shipment_lines: list[ShipmentLine] = []
        for item_id, quantity in wanted:
            item = order.item(item_id)
            if item is None:
                raise Refused(f"order {order_id} has no item {item_id}")
            amount = item.open_quantity if quantity is None else quantity
            if amount <= 0 and quantity is None:
                continue
            if not 0 < amount <= item.open_quantity:
                raise Refused(f"item {item_id}: {amount} to ship, {item.open_quantity} open")
            shipment_lines.append(ShipmentLine(item, amount))
        if not shipment_lines:
            raise Refused(f"order {order_id} has nothing open to ship")
        if len({line.item.method for line in shipment_lines}) > 1:
            raise Refused("FBR and FBB items ship in separate shipments")
        for line in shipment_lines:
            line.item.quantity_shipped += line.quantity
            line.item.touch(at)
        shipment_id = self._id("shipment")
        shipment = Shipment(
            shipment_id=shipment_id,
            shipped_at=at,
            reference=reference,
            order=order,
            lines=shipment_lines,
            transport=Transport(
                transport_id=self._id("transport"),
                transporter_code=transporter_code,
                track_and_trace=track_and_trace or f"3SBOL{shipment_id}",
                shipping_label_id=shipping_label_id,
                events=[("PRE_ANNOUNCED", at)],
            ),
        )
        self.shipments[shipment_id] = shipment
        if order.invoice_requested:
            self.request_invoice(shipment_id, at=at)
        return shipment

    def request_cancellation(self, order_id: str, item_ids: Iterable[str] | None = None) -> Order:
        """The customer asks to cancel items that have not shipped yet."""
        order = self.order(order_id)
        now = self.now()
        for item in self._items(order, item_ids):
            if item.handled:
                raise Refused(f"item {item.order_item_id} is already handled")
            item.cancellation_request = True
            item.touch(now)
        return order

    def cancel(
        self,
        order_id: str,
        lines: Iterable[tuple[str, int | None]] | None = None,
        *,
        by: str = "seller",
    ) -> Order:
        """Cancel open quantities: by the customer (flagged `cancellationRequest`,
        then granted) or by the seller."""
        if by not in ("customer", "seller"):
            raise Refused("by must be 'customer' or 'seller'")
        order = self.order(order_id)
        now = self.now()
        wanted = (
            list(lines) if lines is not None else [(i.order_item_id, None) for i in order.items]
        )
        for item_id, quantity in wanted:
            item = order.item(item_id)
            if item is None:
                raise Refused(f"order {order_id} has no item {item_id}")
            amount = item.open_quantity if quantity is None else quantity
            if amount == 0 and quantity is None:
                continue
            if not 0 < amount <= item.open_quantity:
                raise Refused(f"item {item_id}: {amount} to cancel, {item.open_quantity} open")
            if by == "customer":
                item.cancellation_request = True
            item.quantity_cancelled += amount
            item.touch(now)
        return order

    def cancel_by_api(self, order_item_id: str, reason: str) -> ProcessStatus:
        """`PUT /retailer/orders/cancellation`: confirm a customer's request or cancel
        an item the seller cannot deliver. Business refusals surface asynchronously."""
        found = self.find_item(order_item_id)
        description = f"Cancel order item {order_item_id}."
        if found is None:
            return self._process(
                order_item_id, "CANCEL_ORDER", description, f"Order item {order_item_id} not found."
            )
        _, item = found
        if item.handled:
            return self._process(
                order_item_id,
                "CANCEL_ORDER",
                description,
                f"Order item {order_item_id} has already been shipped or cancelled.",
            )
        item.quantity_cancelled += item.open_quantity
        item.touch(self.now())
        return self._process(order_item_id, "CANCEL_ORDER", description)

    def age(self, order_id: str, hours: float) -> Order:
        """Move an order's whole history `hours` into the past (placed, changed,
        handled, shipped, returned, invoice transitions)."""
        order = self.order(order_id)
        delta = timedelta(hours=hours)
        order.placed_at -= delta
        for item in order.items:
            item.changed_at -= delta
            if item.handled_at is not None:
                item.handled_at -= delta
        for shipment in self.shipments.values():
            if shipment.order is order:
                shipment.shipped_at -= delta
                shipment.transport.events = [(c, t - delta) for c, t in shipment.transport.events]
                request = self.invoice_requests.get(shipment.shipment_id)
                if request is not None:
                    request.transitions = [(s, t - delta) for s, t in request.transitions]
        for ret in self.returns.values():
            if any(item.order is order for item in ret.items):
                ret.registered_at -= delta
                for item in ret.items:
                    for result in item.results:
                        result.at -= delta
        return order

    @staticmethod
    def _items(order: Order, item_ids: Iterable[str] | None) -> list[OrderItem]:
        if item_ids is None:
            return list(order.items)
        items = []
        for item_id in item_ids:
            item = order.item(item_id)
            if item is None:
                raise Refused(f"order {order.order_id} has no item {item_id}")
            items.append(item)
        return items

    # --- process statuses ---------------------------------------------------------

    def _process(
        self, entity_id: str, event_type: str, description: str, error: str | None = None
    ) -> ProcessStatus:
        now = self.now()
        status = ProcessStatus(
            process_status_id=self._id("process"),
            entity_id=entity_id,
            event_type=event_type,
            description=description,
            created_at=now,
            ready_at=now + timedelta(seconds=self.state.config.process_delay_seconds),
            outcome="FAILURE" if error else "SUCCESS",
            error_message=error,
        )
        self.process_statuses[status.process_status_id] = status
        return status

    # --- counters -----------------------------------------------------------------

    def calls_json(self) -> dict[str, Any]:
        return {
            "calls": dict(self.calls),
            "rateLimited": dict(self.rate_limited),
            "total": sum(self.calls.values()),
        }

"""What a bol order tells, read from its detail or — once bol no longer shows the order —
rebuilt from its shipments (bol.md §3.4), with the returns bol credited.

bol has no order status (§5): each item has its quantity, the units shipped and the
units cancelled; returns are separate resources, keyed by order and EAN. The units an
order still sells are `quantity − cancelled − returned` (returned: credited returns, at
most what was shipped). An order everything of which was cancelled or returned is
cancelled; a part cancelled or returned is a change of content (an amendment).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from koppel_ingest import OrderUnreadable

from .client import BolJson

Source = Literal["order", "shipments"]

# Handling results after which the buyer gets the money back (UNCONFIRMED reading of
# the spec's enum): exchanged, repaired or kept-and-paid units stay sold, and a
# REJECTED processing result (RETURN_DOES_NOT_MEET_CONDITIONS) credits nothing.
CREDITED_HANDLING = frozenset({"RETURN_RECEIVED", "STILL_APPROVED"})


def moment(value: Any, what: str) -> datetime:
    """A bol date-time (ISO 8601 with offset) as an aware UTC datetime."""
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise OrderUnreadable(f"{what} {value!r} is not a date-time") from None
    if parsed.tzinfo is None:
        raise OrderUnreadable(f"{what} {value!r} has no offset")
    return parsed.astimezone(UTC)


def amount(value: Any, what: str) -> Decimal:
    if value is None or isinstance(value, bool | float):
        raise OrderUnreadable(f"{what} is missing or not a number ({value!r})")
    try:
        return Decimal(str(value))
    except ArithmeticError:
        raise OrderUnreadable(f"{what} {value!r} is not a number") from None


def count(value: Any, what: str, default: int | None = None) -> int:
    if value is None and default is not None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise OrderUnreadable(f"{what} {value!r} is not a quantity")
    return value


@dataclass(frozen=True)
class Returned:
    """A return item as bol handled it: the units credited (0 when not credited)."""

    rma_id: str
    order_id: str
    ean: str
    quantity: int
    handled_at: datetime | None = None


def returned_items(ret: BolJson) -> list[Returned]:
    """The return items of a (reduced) return, with their credited units."""
    found = []
    for item in ret.get("returnItems") or []:
        results = item.get("processingResults") or []
        credited = sum(
            int(r.get("quantity") or 0)
            for r in results
            if r.get("processingResult") == "ACCEPTED"
            and r.get("handlingResult") in CREDITED_HANDLING
        )
        times = [moment(r["processingDateTime"], "processingDateTime") for r in results]
        found.append(
            Returned(
                rma_id=str(item["rmaId"]),
                order_id=str(item["orderId"]),
                ean=str(item.get("ean") or ""),
                quantity=credited if item.get("handled") else 0,
                handled_at=max(times) if times else None,
            )
        )
    return found


@dataclass(frozen=True)
class Item:
    order_item_id: str
    ean: str | None
    title: str | None
    offer_reference: str | None
    method: str
    quantity: int
    shipped: int
    cancelled: int
    unit_price: Decimal  # incl. VAT, before discounts
    discount: Decimal  # the item's discounts incl. VAT, for all its units
    changed_at: datetime | None = None
    returned: int = 0  # credited returns, at most `shipped`

    @property
    def kept(self) -> int:
        return max(0, self.quantity - self.cancelled - self.returned)

    @property
    def open(self) -> int:
        return max(0, self.quantity - self.shipped - self.cancelled)


@dataclass(frozen=True)
class BolOrder:
    order_id: str
    placed_at: datetime
    items: tuple[Item, ...]
    billing: BolJson  # billing details, else the delivery details (bol.md §9 item 6)
    delivery: BolJson | None
    source: Source

    @property
    def cancelled(self) -> bool:
        """Everything cancelled or returned: nothing is sold any more."""
        return all(item.kept == 0 for item in self.items)

    @property
    def handled(self) -> bool:
        """Nothing is left to ship (every unit shipped or cancelled)."""
        return all(item.open == 0 for item in self.items)

    @property
    def shipped(self) -> bool:
        return self.handled and any(item.shipped > 0 for item in self.items)

    @property
    def status(self) -> str:
        """The order's state in bol's words (bol has none of its own, §5)."""
        if self.cancelled:
            return "CANCELLED"
        return "SHIPPED" if self.shipped else "OPEN"

    @property
    def changed_at(self) -> datetime | None:
        times = [i.changed_at for i in self.items if i.changed_at is not None]
        return max(times) if times else None


def _item(data: BolJson, *, shipment: bool) -> Item:
    item_id = str(data.get("orderItemId") or "")
    if not item_id:
        raise OrderUnreadable("an order item has no orderItemId")
    what = f"order item {item_id}"
    product = data.get("product") or {}
    offer = data.get("offer") or {}
    quantity = count(data.get("quantity"), f"{what} quantity")
    if shipment:
        # An order rebuilt from shipments sells what was shipped: the rest of an order
        # that left bol's list was cancelled. Shipments show no discounts (§3.4).
        shipped = count(data.get("quantityShipped"), f"{what} quantityShipped", quantity)
        cancelled, discount = 0, Decimal(0)
    else:
        shipped = count(data.get("quantityShipped"), f"{what} quantityShipped", 0)
        cancelled = count(data.get("quantityCancelled"), f"{what} quantityCancelled", 0)
        discount = sum(
            (amount(d.get("amount"), f"{what} discount") for d in data.get("discounts") or []),
            Decimal(0),
        )
    if quantity < 1 or shipped + cancelled > quantity:
        raise OrderUnreadable(
            f"{what}: {shipped} shipped and {cancelled} cancelled of {quantity} ordered"
        )
    changed = data.get("latestChangedDateTime")
    return Item(
        order_item_id=item_id,
        ean=str(product.get("ean") or data.get("ean") or "") or None,
        title=product.get("title"),
        offer_reference=offer.get("reference") or None,
        method=str((data.get("fulfilment") or {}).get("method") or "FBR"),
        quantity=quantity,
        shipped=shipped,
        cancelled=cancelled,
        unit_price=amount(data.get("unitPrice"), f"{what} unitPrice"),
        discount=discount,
        changed_at=moment(changed, f"{what} latestChangedDateTime") if changed else None,
    )


def with_returns(items: Iterable[Item], returns: Iterable[Returned]) -> tuple[Item, ...]:
    """Credited returns onto the items, by EAN (bol's returns name no order item), each
    item taking at most what it shipped, in the order's item order."""
    left: dict[str, int] = {}
    for ret in returns:
        left[ret.ean] = left.get(ret.ean, 0) + ret.quantity
    result = []
    for item in items:
        take = min(item.shipped, left.get(item.ean or "", 0))
        if take:
            left[item.ean or ""] -= take
        result.append(replace(item, returned=take))
    return tuple(result)


def _parties(data: BolJson) -> tuple[BolJson, BolJson | None]:
    delivery = data.get("shipmentDetails") or None
    billing = data.get("billingDetails") or delivery
    if not billing:
        raise OrderUnreadable("the order has neither billing nor shipment details")
    return billing, delivery


def read_order(detail: BolJson, returns: Iterable[Returned] = ()) -> BolOrder:
    """An order from `GET /retailer/orders/{id}` (bol.md §3.2)."""
    order_id = str(detail.get("orderId") or "")
    if not order_id:
        raise OrderUnreadable("the order has no orderId")
    items = [_item(i, shipment=False) for i in detail.get("orderItems") or []]
    if not items:
        raise OrderUnreadable(f"order {order_id} has no items")
    billing, delivery = _parties(detail)
    return BolOrder(
        order_id=order_id,
        placed_at=moment(detail.get("orderPlacedDateTime"), "orderPlacedDateTime"),
        items=with_returns(items, returns),
        billing=billing,
        delivery=delivery,
        source="order",
    )


def _shipped_at(shipment: BolJson) -> datetime:
    value = shipment.get("shipmentDateTime")
    return moment(value, "shipmentDateTime") if value else datetime.min.replace(tzinfo=UTC)


def read_shipments(
    order_id: str, shipments: list[BolJson], returns: Iterable[Returned] = ()
) -> BolOrder:
    """An order rebuilt from its shipments (bol.md §3.4): items merged by order item (one
    item may travel in several shipments: their shipped units add up), customer from the
    billing details (else the delivery details) of the latest shipment."""
    if not shipments:
        raise OrderUnreadable(f"order {order_id} has no shipments to rebuild it from")
    merged: dict[str, Item] = {}
    for shipment in sorted(shipments, key=_shipped_at):
        for data in shipment.get("shipmentItems") or []:
            item = _item(data, shipment=True)
            known = merged.get(item.order_item_id)
            if known is not None:
                item = replace(known, shipped=min(known.quantity, known.shipped + item.shipped))
            merged[item.order_item_id] = item
    latest = max(shipments, key=_shipped_at)
    billing, delivery = _parties(latest)
    placed = (latest.get("order") or {}).get("orderPlacedDateTime")
    items = [replace(i, cancelled=i.quantity - i.shipped) for i in merged.values()]
    return BolOrder(
        order_id=order_id,
        placed_at=moment(placed, "orderPlacedDateTime"),
        items=with_returns(items, returns),
        billing=billing,
        delivery=delivery,
        source="shipments",
    )


def latest_change(items: Iterable[Mapping[str, Any]]) -> str | None:
    """The newest `latestChangedDateTime` of a list item's order items, as UTC text: what
    shows a change. A change listing shows the changed items of an order, and so always
    the most recently changed one: the same value the order's detail gives."""
    times = [
        moment(i["latestChangedDateTime"], "latestChangedDateTime")
        for i in items
        if i.get("latestChangedDateTime")
    ]
    return max(times).isoformat() if times else None

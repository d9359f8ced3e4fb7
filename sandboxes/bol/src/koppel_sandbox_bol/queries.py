"""What the list endpoints show, as bol describes it (bol.md §3, §6): newest first,
50 per page, handled order items only for 48 hours, shipments up to 3 months."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

from .account import Account
from .model import InvoiceRequest, Order, OrderItem, Return, Shipment
from .timefmt import local_date, months_back

T = TypeVar("T")


def page_of(items: list[T], page: int, size: int) -> list[T]:
    start = (page - 1) * size
    return items[start : start + size]


@dataclass(frozen=True)
class OrderFilter:
    fulfilment_method: str = "FBR"  # FBR | FBB | ALL
    status: str = "OPEN"  # OPEN | SHIPPED | ALL
    change_interval_minutes: int | None = None
    latest_change_date: date | None = None
    vvb_only: bool = False


def _item_listed(item: OrderItem, f: OrderFilter, now: datetime, visible_hours: float) -> bool:
    if f.fulfilment_method != "ALL" and item.method != f.fulfilment_method:
        return False
    if f.status == "OPEN" and item.handled:
        return False
    if f.status == "SHIPPED" and item.quantity_shipped == 0:
        return False
    if f.change_interval_minutes is not None:
        if item.changed_at < now - timedelta(minutes=f.change_interval_minutes):
            return False
    if f.latest_change_date is not None:
        # The date filter reaches 3 months back, past the 48-hour window (spec).
        return local_date(item.changed_at) == f.latest_change_date
    if item.handled and item.handled_at is not None:
        return item.handled_at >= now - timedelta(hours=visible_hours)
    return True


def list_orders(account: Account, f: OrderFilter) -> list[tuple[Order, list[OrderItem]]]:
    """Orders with the items that pass the filters, newest order first."""
    now = account.now()
    hours = account.state.config.handled_visible_hours
    listed = []
    for order in account.orders.values():
        if f.vvb_only and not order.vvb:
            continue
        items = [i for i in order.items if _item_listed(i, f, now, hours)]
        if items:
            listed.append((order, items))
    listed.sort(key=lambda entry: (entry[0].placed_at, entry[0].order_id), reverse=True)
    return listed


def order_detail_visible(account: Account, order: Order) -> bool:
    days = account.state.config.order_detail_retention_days
    return days is None or order.placed_at >= account.now() - timedelta(days=days)


def list_shipments(
    account: Account, fulfilment_method: str | None, order_id: str | None
) -> list[Shipment]:
    since = months_back(account.now(), account.state.config.shipments_window_months)
    shipments = [s for s in account.shipments.values() if s.shipped_at >= since]
    if order_id is not None:
        # order-id is only valid without fulfilment-method; the default is then ignored.
        shipments = [s for s in shipments if s.order.order_id == order_id]
    else:
        shipments = [s for s in shipments if s.method == (fulfilment_method or "FBR")]
    shipments.sort(key=lambda s: (s.shipped_at, s.shipment_id), reverse=True)
    return shipments


def list_returns(account: Account, handled: bool, fulfilment_method: str | None) -> list[Return]:
    """Handled returns newest first, unhandled ones oldest first (spec)."""
    returns = [r for r in account.returns.values() if r.handled == handled]
    if fulfilment_method is not None:
        returns = [r for r in returns if r.method == fulfilment_method]
    if handled:
        returns.sort(key=lambda r: (r.handled_at, r.return_id), reverse=True)
    else:
        returns.sort(key=lambda r: (r.registered_at, r.return_id))
    return returns


INVOICE_STATES = {
    "OPEN": ("INVOICE_REQUESTED",),
    "UPLOAD_ERROR": ("INVOICE_INCORRECT", "INVOICE_VIRUS_DETECTED"),
}


def list_invoice_requests(
    account: Account, shipment_id: str | None, state: str
) -> list[InvoiceRequest]:
    requests = list(account.invoice_requests.values())
    if shipment_id is not None:
        requests = [r for r in requests if r.shipment.shipment_id == shipment_id]
    if state != "ALL":
        requests = [r for r in requests if r.status in INVOICE_STATES[state]]
    requests.sort(key=lambda r: (r.transitions[0][1], r.shipment.shipment_id), reverse=True)
    return requests

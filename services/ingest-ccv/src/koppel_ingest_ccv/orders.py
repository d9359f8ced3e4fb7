"""What the runtime needs to know about a CCV order before mapping it: is it bookable
(the connection's trigger), cancelled, which number does it carry, did its list item
change. Pure: a CCV order (or list item) in, the runtime's typed records out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from koppel_contracts import OrderSummary, content_hash
from koppel_ingest import Candidate, OrderUnreadable, ShopOrder

from .amounts import MappingError, amount, moment, text

CcvJson = Mapping[str, Any]

CANCELLED = 8

# Fields whose change means "the order changed" without fetching its rows; the poll
# compares them to decide what to re-read.
RESOURCE_FINGERPRINT_FIELDS = (
    "ordernumber_full",
    "currency",
    "order_row_taxes_included",
    "total_orderrow_price",
    "total_shipping",
    "total_discounts",
    "total_price",
    "total_tax",
    "paymethod_costs",
    "credit_point_discount",
    "extra_costs",
    "customer",
)


@dataclass(frozen=True)
class Trigger:
    """When an order becomes bookable: the paid flag and/or CCV status ids."""

    paid: bool
    statuses: frozenset[int]

    @classmethod
    def parse(cls, entries: Iterable[str]) -> Trigger:
        """`["paid", "5"]`: paid, or status 5 (sent). Unknown entries are ignored."""
        cleaned = [entry.strip().lower() for entry in entries]
        return cls(
            paid="paid" in cleaned,
            statuses=frozenset(int(entry) for entry in cleaned if entry.isdigit()),
        )

    def holds(self, order: CcvJson) -> bool:
        if order.get("is_completed") is not True or is_cancelled(order):
            return False
        return (self.paid and order.get("paid") is True) or order.get("status") in self.statuses


def is_cancelled(order: CcvJson) -> bool:
    return order.get("status") == CANCELLED


def resource_fingerprint(order: CcvJson) -> str:
    return content_hash({name: order.get(name) for name in RESOURCE_FINGERPRINT_FIELDS})


def order_number(order: CcvJson) -> str | None:
    full = order.get("ordernumber_full")
    if full:
        return str(full)
    number = order.get("ordernumber")
    return str(number) if number is not None else None


def order_summary(order: CcvJson) -> OrderSummary | None:
    """Enough to recognise the order in an alert; None when even that is unreadable."""
    try:
        billing = (order.get("customer") or {}).get("billingaddress") or {}
        return OrderSummary(
            order_number=order_number(order) or str(order["id"]),
            placed_on=moment(order.get("create_date"), "create_date").date(),
            total_incl_vat=amount(order.get("total_price"), "total_price"),
            currency=str(order.get("currency") or "EUR"),
            customer_name=text(billing.get("full_name")),
        )
    except (MappingError, ValueError, KeyError, TypeError):
        return None


def created(order: CcvJson) -> datetime | None:
    """None when unreadable: such an order is fetched, which records the failure."""
    try:
        return datetime.fromisoformat(str(order.get("create_date")))
    except ValueError:
        return None


def observe(order: CcvJson, trigger: Trigger) -> ShopOrder:
    """The order as the runtime sees it; raises OrderUnreadable when it cannot tell when
    the order was placed."""
    number = order_number(order)
    placed_at = created(order)
    if placed_at is None:
        raise OrderUnreadable("create_date unreadable", number=number)
    ordernumber = order.get("ordernumber")
    return ShopOrder(
        source_order_id=str(order["id"]),
        placed_at=placed_at,
        bookable=trigger.holds(order),
        cancelled=is_cancelled(order),
        placed=order.get("is_completed") is True and bool(number),
        order_number=number,
        source_status=str(order["status"]) if order.get("status") is not None else None,
        lookup_key=str(ordernumber) if ordernumber is not None else None,
        fingerprint=resource_fingerprint(order),
        summary=order_summary(order),
        payload=order,
    )


def candidate(item: CcvJson, trigger: Trigger) -> Candidate:
    """A list item of `GET /orders`: everything the poll needs to skip a fetch."""
    return Candidate(
        source_order_id=str(item["id"]),
        order_number=order_number(item),
        fingerprint=resource_fingerprint(item),
        bookable=trigger.holds(item),
        cancelled=is_cancelled(item),
    )

"""A bol order → the canonical order (pure), and when it is bookable.

- Lines: one per order item that still sells units (`kept`), at bol's unit price incl.
  VAT, with the item's discounts (taken back in proportion for units cancelled or
  returned); the VAT rate from the connection's tables (`vat.rate_for`), the VAT split
  per line (`vat.vat_in`, half-up to the cent). bol charges no shipping (its price
  includes delivery, bol.md §4): no shipping, no payment costs, no order discounts.
- Totals: the sum of the lines (incl., VAT, excl.): what the buyer paid for what he kept.
- Customer (bol.md §3.2): from the billing details, else the delivery details: names,
  company and VAT number of a business buyer, the e-mail bol gives (a relay alias per
  order: ledgers must not match debtors by it — bol connections book consumers on a
  collective debtor by default), the delivery phone when bol has one.
- Paid: always — the buyer pays bol when ordering, bol pays the seller.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from koppel_contracts import (
    Address,
    CanonicalOrder,
    Customer,
    OrderLine,
    OrderStatus,
    OrderSummary,
    OrderTotals,
    ShopOptions,
)
from koppel_ingest import OrderUnreadable

from .client import BolJson
from .orders import BolOrder, Item
from .vat import discount_kept, half_up, net_unit_price, rate_for, vat_in

PAYMENT_METHOD = "bol.com"  # what `ledger.booking.payment_method_debtors` can map
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
STATUSES = {
    "OPEN": OrderStatus.PROCESSING,
    "SHIPPED": OrderStatus.SHIPPED,
    "CANCELLED": OrderStatus.CANCELLED,
}


@dataclass(frozen=True)
class Trigger:
    """When a bol order is bookable (`shop.options.trigger_statuses`). bol has no payment
    state: the buyer has paid bol when the order exists. So:
    - `paid` (the default) or `placed`: once placed;
    - `shipped`: once nothing is left to ship and something was shipped (the content
      is then final, but for returns);
    alternatives, like CCV's; other entries are ignored. A cancelled order never is."""

    placed: bool
    shipped: bool

    @classmethod
    def parse(cls, statuses: list[str]) -> Trigger:
        wanted = {s.strip().lower() for s in statuses}
        return cls(placed=bool(wanted & {"paid", "placed"}), shipped="shipped" in wanted)

    def holds(self, order: BolOrder) -> bool:
        if order.cancelled:
            return False
        return self.placed or (self.shipped and order.shipped)


def line_of(item: Item, options: ShopOptions) -> OrderLine:
    rate, source = rate_for(options, offer_reference=item.offer_reference, ean=item.ean)
    kept = item.kept
    discount = discount_kept(item.discount, kept, item.quantity)
    total_incl = kept * item.unit_price - discount
    if total_incl < 0:
        raise OrderUnreadable(
            f"order item {item.order_item_id}: {kept} x {item.unit_price} less discounts"
            f" {discount} is negative ({total_incl})"
        )
    vat = vat_in(total_incl, rate)
    total_excl = total_incl - vat
    unit_excl = net_unit_price(item.unit_price, rate)
    # The net discount is what makes the net line add up (to the cent); none when
    # there is none, so no cent of rounding shows up as a discount.
    discount_excl = half_up(kept * unit_excl - total_excl) if discount else Decimal("0.00")
    return OrderLine(
        sku=item.offer_reference,
        ean=item.ean,
        offer_reference=item.offer_reference,
        description=item.title or f"EAN {item.ean or item.order_item_id}",
        quantity=Decimal(kept),
        unit_price_excl_vat=unit_excl,
        unit_price_incl_vat=item.unit_price,
        vat_rate=rate,
        vat_rate_source=source,
        discount_excl_vat=discount_excl,
        discount_incl_vat=discount,
        total_excl_vat=total_excl,
        total_incl_vat=total_incl,
    )


def _text(party: BolJson, key: str) -> str | None:
    value = party.get(key)
    if value is None:
        return None
    return str(value).strip() or None


def _name(party: BolJson) -> str | None:
    parts = [_text(party, "firstName"), _text(party, "surname")]
    return " ".join(p for p in parts if p) or None


def address_of(party: BolJson, what: str) -> Address:
    country = _text(party, "countryCode")
    if country is None or not re.fullmatch(r"[A-Z]{2}", country):
        raise OrderUnreadable(f"the {what} address has no country code ({country!r})")
    return Address(
        company_name=_text(party, "company"),
        full_name=_name(party),
        street=_text(party, "streetName"),
        house_number=_text(party, "houseNumber"),
        house_number_suffix=_text(party, "houseNumberExtension"),
        postal_code=_text(party, "zipCode"),
        city=_text(party, "city"),
        country_code=country,
    )


def customer_of(order: BolOrder) -> Customer:
    billing = order.billing
    email = _text(billing, "email")
    return Customer(
        email=email if email and EMAIL.match(email) else None,
        first_name=_text(billing, "firstName"),
        last_name=_text(billing, "surname"),
        company_name=_text(billing, "company"),
        vat_number=_text(billing, "vatNumber"),
        phone=_text(order.delivery or {}, "deliveryPhoneNumber"),
    )


def map_order(order: BolOrder, options: ShopOptions) -> CanonicalOrder:
    """The canonical order of what the buyer still buys (raises OrderUnreadable, or the
    contract's ValidationError when the parts do not add up)."""
    lines = [line_of(item, options) for item in order.items if item.kept > 0]
    if not lines:
        raise OrderUnreadable(f"order {order.order_id} has nothing left to book")
    total_incl = sum((ln.total_incl_vat for ln in lines), Decimal(0))
    total_excl = sum((ln.total_excl_vat for ln in lines), Decimal(0))
    return CanonicalOrder(
        source_order_id=order.order_id,
        order_number=order.order_id,
        status=STATUSES[order.status],
        source_status=order.status,
        paid=True,
        paid_at=order.placed_at,
        placed_at=order.placed_at,
        currency="EUR",
        prices_include_vat=True,
        customer=customer_of(order),
        billing_address=address_of(order.billing, "billing"),
        shipping_address=address_of(order.delivery, "delivery") if order.delivery else None,
        payment_method=PAYMENT_METHOD,
        lines=lines,
        totals=OrderTotals(
            total_excl_vat=total_excl,
            total_vat=total_incl - total_excl,
            total_incl_vat=total_incl,
        ),
    )


def summary_of(order: BolOrder) -> OrderSummary:
    """Enough to recognise the order in an alert, even when it cannot be mapped."""
    total = sum(
        (i.kept * i.unit_price - discount_kept(i.discount, i.kept, i.quantity)) for i in order.items
    )
    return OrderSummary(
        order_number=order.order_id,
        placed_on=order.placed_at.date(),
        total_incl_vat=total,
        currency="EUR",
        customer_name=_text(order.billing, "company") or _name(order.billing),
    )

"""A PrestaShop order (typed records, read by `reader`) -> the canonical order. Pure.

How PrestaShop's amounts are read (prestashop.md §7–§9):
- The order's `total_paid_tax_incl` is the authority. Before anything is mapped, the
  shop's own arithmetic is checked (`checks`): lines = `total_products(_wt)`, cart rules =
  `total_discounts_*`, products + shipping + wrapping - discounts = `total_paid_*`. An
  order that does not add up is unreadable (an ingest failure with the reason), never
  fixed with a rounding line.
- Lines are `order_details`: the shop's own line totals and unit prices, each at the rate
  of its taxes (the rate itself is hidden, §8); a line whose amounts were not charged at
  that rate is unreadable.
- Cart rules carry an incl. and an excl. value but no rate: each is split over the goods'
  rates in proportion to the goods (incl. over incl., excl. over excl., to the cent), the
  way PrestaShop spreads a cart rule over the products; a free-shipping rule first takes
  the shipping, at the carrier's rate.
- Shipping is charged at `carrier_tax_rate`; gift wrapping (a line) at the one shop rate
  its amounts fit (the order does not say which).
- Credit slips come off the lines and the shipping (`refunds`): a partial refund is an
  amendment of the order, the totals are `total_paid_*` minus what the slips gave back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from koppel_contracts import (
    CanonicalOrder,
    Charge,
    OrderDiscount,
    OrderLine,
    OrderTotals,
)

from . import checks, parties, records
from .amounts import CENT, ZERO, allocate, charged_at, percent, rate_label, rate_of, tidy
from .orders import status_of
from .refunds import Refunded, Refunds, refunds
from .webservice import MappingError

WRAPPING = "Cadeauverpakking"
SHIPPING = "Verzendkosten"


@dataclass(frozen=True)
class OrderBundle:
    """Everything the mapping reads of one order (see `reader.read_bundle`)."""

    order: records.Order
    state: records.State
    details: tuple[records.Detail, ...]
    line_rates: dict[int, Decimal]  # order_detail id -> VAT % (the sum of its taxes)
    cart_rules: tuple[records.CartRule, ...]
    slips: tuple[records.Slip, ...]
    customer: records.Customer
    invoice_address: records.Address
    delivery_address: records.Address
    countries: dict[int, str]  # id_country -> ISO code
    currency: str
    carrier_name: str | None
    shop_rates: frozenset[Decimal]  # the shop's tax rates (for the wrapping's rate)
    order_number: str
    placed_at: datetime


def _line(detail: records.Detail, rate: Decimal, back: Refunded | None) -> OrderLine:
    """The line as it stands after refunds (quantity 0 when given back entirely)."""
    if not charged_at(
        detail.total_price_tax_excl, detail.total_price_tax_incl, rate, detail.quantity
    ):
        raise MappingError(
            f"order_detail {detail.id}: {detail.total_price_tax_excl} excl. and"
            f" {detail.total_price_tax_incl} incl. VAT were not charged at its tax's {rate}%"
        )
    back = back or Refunded()
    quantity = detail.quantity - back.quantity
    total_excl = detail.total_price_tax_excl - back.excl
    total_incl = detail.total_price_tax_incl - back.incl
    # A slip prices the items it takes back itself (unit x quantity, rounded once), so it
    # may give back a little more than the line charged for them: a cent per item at most.
    room = CENT * max(1, back.quantity)
    if quantity < 0 or total_excl < -room or total_incl < -room:
        raise MappingError(f"order_detail {detail.id}: credit slips refund more than the line")
    name, unit_excl, unit_incl = detail.name, detail.unit_price_tax_excl, detail.unit_price_tax_incl
    if quantity == 0 and (total_incl != 0 or total_excl != 0):
        # All items back, not exactly their price (a restocking fee kept, or the slip's
        # own rounding): the difference, as it is.
        kept = "niet terugbetaald" if total_incl > 0 else "verschil creditnota"
        name, quantity = f"{name} ({kept})", 1
        unit_excl, unit_incl = total_excl, total_incl
    elif quantity == 0:
        name = f"{name} (retour)"
    discount_excl = _discount(quantity, unit_excl, total_excl, back.quantity > 0, detail.id)
    discount_incl = _discount(quantity, unit_incl, total_incl, back.quantity > 0, detail.id)
    return OrderLine(
        sku=detail.reference,
        ean=detail.ean13,
        description=name,
        quantity=Decimal(quantity),
        unit_price_excl_vat=tidy(unit_excl),
        unit_price_incl_vat=tidy(unit_incl),
        vat_rate=percent(rate),
        discount_excl_vat=discount_excl,
        discount_incl_vat=discount_incl,
        total_excl_vat=tidy(total_excl),
        total_incl_vat=tidy(total_incl),
    )


def _discount(quantity: int, unit: Decimal, total: Decimal, refunded: bool, line: int) -> Decimal:
    """Quantity x unit price and the line's total agree within the shop's rounding; only
    a refund of an amount (not of whole items) leaves a difference, shown as a reduction."""
    difference = quantity * unit - total
    if abs(difference) <= Decimal("0.01") * max(1, quantity):
        return ZERO
    if not refunded:
        raise MappingError(f"order_detail {line}: {quantity} x {unit} is not its total {total}")
    return tidy(difference)


def _goods(bundle: OrderBundle) -> tuple[list[Decimal], list[Decimal], list[Decimal]]:
    """The goods' rates (highest first) and their totals excl. and incl. VAT."""
    excl: dict[Decimal, Decimal] = {}
    incl: dict[Decimal, Decimal] = {}
    for detail in bundle.details:
        rate = bundle.line_rates[detail.id]
        excl[rate] = excl.get(rate, ZERO) + detail.total_price_tax_excl
        incl[rate] = incl.get(rate, ZERO) + detail.total_price_tax_incl
    rates = sorted(excl, reverse=True)
    return rates, [excl[r] for r in rates], [incl[r] for r in rates]


def _discounts(bundle: OrderBundle) -> list[OrderDiscount]:
    rates, goods_excl, goods_incl = _goods(bundle)
    order = bundle.order
    shipping_left = (order.total_shipping_tax_excl, order.total_shipping_tax_incl)
    found: list[OrderDiscount] = []
    for rule in bundle.cart_rules:
        excl, incl = rule.value_tax_excl, rule.value
        if rule.free_shipping and shipping_left[1] > 0:
            part = (min(excl, shipping_left[0]), min(incl, shipping_left[1]))
            shipping_left = (shipping_left[0] - part[0], shipping_left[1] - part[1])
            excl, incl = excl - part[0], incl - part[1]
            found.append(
                _discount_at(f"{rule.name} (verzendkosten)", *part, order.carrier_tax_rate)
            )
        if excl == 0 and incl == 0:
            continue
        shares = zip(rates, allocate(excl, goods_excl), allocate(incl, goods_incl), strict=True)
        for rate, share_excl, share_incl in shares:
            if share_excl == 0 and share_incl == 0:
                continue
            label = f"{rule.name} ({rate_label(rate)})" if len(rates) > 1 else rule.name
            found.append(_discount_at(label, share_excl, share_incl, rate))
    return found


def _discount_at(name: str, excl: Decimal, incl: Decimal, rate: Decimal) -> OrderDiscount:
    if excl < 0 or incl < 0:
        raise MappingError(f"cart rule {name!r} has a negative value")
    return OrderDiscount(
        description=name,
        amount_excl_vat=tidy(excl),
        amount_incl_vat=tidy(incl),
        vat_rate=percent(rate),
    )


def _shipping(bundle: OrderBundle, back: Refunds) -> Charge | None:
    order = bundle.order
    excl, incl, rate = (
        order.total_shipping_tax_excl,
        order.total_shipping_tax_incl,
        order.carrier_tax_rate,
    )
    if not charged_at(excl, incl, rate):
        raise MappingError(
            f"shipping {excl} excl. and {incl} incl. VAT was not charged at the carrier's {rate}%"
        )
    excl, incl = excl - back.shipping_excl, incl - back.shipping_incl
    if excl < 0 or incl < 0:
        raise MappingError("credit slips refund more shipping than the order charged")
    if excl == 0 and incl == 0:
        return None
    name = f"{SHIPPING} {bundle.carrier_name}" if bundle.carrier_name else SHIPPING
    return Charge(
        description=name,
        amount_excl_vat=tidy(excl),
        amount_incl_vat=tidy(incl),
        vat_rate=percent(rate),
    )


def _wrapping(bundle: OrderBundle) -> OrderLine | None:
    order = bundle.order
    excl, incl = order.total_wrapping_tax_excl, order.total_wrapping_tax_incl
    if excl == 0 and incl == 0:
        return None
    candidates = {ZERO, *bundle.shop_rates, *bundle.line_rates.values()}
    rate = rate_of(excl, incl, candidates, "gift wrapping")
    return OrderLine(
        description=WRAPPING,
        quantity=Decimal(1),
        unit_price_excl_vat=tidy(excl),
        unit_price_incl_vat=tidy(incl),
        vat_rate=percent(rate),
        total_excl_vat=tidy(excl),
        total_incl_vat=tidy(incl),
    )


def _lines(bundle: OrderBundle, back: Refunds) -> list[OrderLine]:
    known = {d.id for d in bundle.details}
    unknown = sorted(set(back.lines) - known)
    if unknown:
        raise MappingError(f"credit slips refund order_details {unknown} the order does not have")
    lines = [
        _line(detail, bundle.line_rates[detail.id], back.lines.get(detail.id))
        for detail in bundle.details
    ]
    # Lines given back entirely are left out, unless nothing else is left (the shipping
    # was kept): an order has at least one line.
    kept = [line for line in lines if line.quantity != 0] or lines
    wrapping = _wrapping(bundle)
    return [*kept, *([wrapping] if wrapping else [])]


def map_order(bundle: OrderBundle) -> CanonicalOrder:
    """The canonical order; raises MappingError (or the contract's ValidationError)."""
    order = bundle.order
    if not bundle.details:
        raise MappingError("the order has no order_details")
    checks.shop_arithmetic(order, bundle.details, bundle.cart_rules)
    back = refunds(bundle.slips)
    lines = _lines(bundle, back)
    total_incl = order.total_paid_tax_incl - back.total_incl
    total_excl = order.total_paid_tax_excl - back.total_excl
    billing = parties.address(bundle.invoice_address, bundle.countries)
    delivery = bundle.delivery_address
    return CanonicalOrder(
        source_order_id=str(order.id),
        order_number=bundle.order_number,
        status=status_of(bundle.state, cancelled=False),
        source_status=str(order.current_state),
        paid=bundle.state.paid,
        placed_at=bundle.placed_at,
        currency=bundle.currency,
        # PrestaShop keeps prices excl. VAT and puts the VAT on them (§8): its VAT per
        # rate is what it added to the excl. amounts.
        prices_include_vat=False,
        customer=parties.customer(bundle.customer, bundle.invoice_address),
        billing_address=billing,
        shipping_address=(
            parties.address(delivery, bundle.countries)
            if delivery.id != bundle.invoice_address.id
            else None
        ),
        payment_method=order.payment,
        lines=lines,
        discounts=_discounts(bundle),
        shipping=_shipping(bundle, back),
        totals=OrderTotals(
            total_incl_vat=tidy(total_incl),
            total_excl_vat=tidy(total_excl),
            total_vat=tidy(total_incl - total_excl),
        ),
    )


def rates_of(
    details: Sequence[records.Detail], tax_rates: dict[int, Decimal]
) -> dict[int, Decimal]:
    """A line's VAT % is the sum of its taxes' rates (none: 0 %)."""
    return {d.id: sum((tax_rates[t] for t in d.tax_ids), ZERO) for d in details}

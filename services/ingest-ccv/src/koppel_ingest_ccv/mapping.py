"""CCV Shop order + order rows -> the canonical order. Pure functions, no I/O.

How CCV's amounts are read (ccvshop.md §4, §12; the formula is not documented,
so every reading below is checked: `total_price` and `total_tax` are taken as
the truth and the canonical order refuses to exist when the parts do not add
up to them — that becomes an ingest failure, never a wrong booking):
- `order_row_taxes_included` says whether row prices include VAT; shipping,
  discounts and costs are in the same basis.
- A row's `total_price` is what is invoiced; `price` is the unit price before
  the row discount, `tax` the VAT percentage.
- The coupon (`total_discounts`), credit points and negative `extra_costs`
  reduce the goods in proportion to the rows' totals per VAT rate; each is
  published as one discount per VAT rate, so the VAT in the event is the VAT
  the shop charged and no consumer has to redo the split.
- Shipping (and positive `extra_costs`) carry `shipping_tax_percentage`, or
  no VAT when `shipping_taxes_included` is false. Payment costs follow the
  goods: their own rate when the goods have one, else rate None with the
  proportional split already applied.
- `total_price` is what the customer pays, VAT included; excl. VAT is
  `total_price - total_tax`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from koppel_contracts import (
    CanonicalOrder,
    Charge,
    OrderDiscount,
    OrderLine,
    OrderStatus,
    OrderTotals,
)

from . import parties
from .amounts import (
    ZERO,
    MappingError,
    allocate,
    amount,
    moment,
    money,
    optional_money,
    rate_label,
    split_vat,
    text,
    unit_price,
)
from .orders import order_number

CcvJson = Mapping[str, Any]

STATUSES: dict[int, OrderStatus] = {
    1: OrderStatus.NEW,
    2: OrderStatus.PROCESSING,
    3: OrderStatus.PROCESSING,  # wait for manufacturer
    4: OrderStatus.AWAITING_PAYMENT,
    5: OrderStatus.SHIPPED,
    6: OrderStatus.COMPLETED,  # delivered
    7: OrderStatus.COMPLETED,
    8: OrderStatus.CANCELLED,
    9: OrderStatus.PROCESSING,  # wait for supplier
    10: OrderStatus.PROCESSING,  # being packaged
    11: OrderStatus.PROCESSING,  # ready to be collected
    12: OrderStatus.PROCESSING,  # being assembled
    13: OrderStatus.PROCESSING,  # backorder
    14: OrderStatus.PROCESSING,  # reserved
}


# --- rows -------------------------------------------------------------------


def map_row(row: CcvJson, includes_vat: bool) -> OrderLine:
    where = f"order row {row.get('id')}"
    quantity = amount(row.get("count"), f"{where}: count")
    if quantity <= 0:
        raise MappingError(f"{where}: count is {quantity}")
    price = money(row.get("price"), f"{where}: price")
    total = money(row.get("total_price"), f"{where}: total_price")
    rate = amount(row.get("tax"), f"{where}: tax")
    # `price` is before the row discount; options can make the total higher
    # than count x price, in which case the total itself is the gross amount.
    gross = max(quantity * price, total)
    gross_excl, gross_incl = split_vat(gross, rate, includes_vat)
    total_excl, total_incl = split_vat(total, rate, includes_vat)
    return OrderLine(
        sku=text(row.get("sub_product_number")) or text(row.get("product_number")),
        ean=text(row.get("sub_ean_number")),
        description=_row_description(row),
        quantity=quantity,
        unit_price_excl_vat=unit_price(gross_excl, quantity),
        unit_price_incl_vat=unit_price(gross_incl, quantity),
        vat_rate=rate,
        discount_excl_vat=gross_excl - total_excl,
        discount_incl_vat=gross_incl - total_incl,
        total_excl_vat=total_excl,
        total_incl_vat=total_incl,
    )


def _row_description(row: CcvJson) -> str:
    name = text(row.get("product_name")) or text(row.get("product_number")) or "Artikel"
    options = [
        f"{a.get('option_name')}: {a.get('value_name')}"
        for a in row.get("attributes") or []
        if isinstance(a, Mapping) and a.get("option_name")
    ]
    return f"{name} ({', '.join(options)})" if options else name


# --- order-level amounts ----------------------------------------------------


def _goods_per_rate(rows: Sequence[CcvJson]) -> dict[Decimal, Decimal]:
    goods: dict[Decimal, Decimal] = {}
    for row in rows:
        rate = amount(row.get("tax"), "order row tax")
        goods[rate] = goods.get(rate, ZERO) + money(row.get("total_price"), "row total_price")
    return goods


def _discounts(
    amount: Decimal, description: str, goods: Mapping[Decimal, Decimal], includes_vat: bool
) -> list[OrderDiscount]:
    if amount == 0:
        return []
    if amount < 0:
        raise MappingError(f"{description}: negative discount {amount}")
    shares = allocate(amount, goods)
    discounts = []
    for rate, share in sorted(shares.items(), reverse=True):
        excl, incl = split_vat(share, rate, includes_vat)
        label = f"{description} ({rate_label(rate)})" if len(shares) > 1 else description
        discounts.append(
            OrderDiscount(
                description=label, amount_excl_vat=excl, amount_incl_vat=incl, vat_rate=rate
            )
        )
    return discounts


def _payment_costs(
    amount: Decimal, description: str, goods: Mapping[Decimal, Decimal], includes_vat: bool
) -> Charge | None:
    if amount == 0:
        return None
    shares = allocate(amount, goods)
    parts = [split_vat(share, rate, includes_vat) for rate, share in shares.items()]
    return Charge(
        description=description,
        amount_excl_vat=sum((excl for excl, _ in parts), ZERO),
        amount_incl_vat=sum((incl for _, incl in parts), ZERO),
        vat_rate=next(iter(shares)) if len(shares) == 1 else None,
    )


def _shipping_rate(order: CcvJson) -> Decimal:
    if order.get("shipping_taxes_included") is False:
        return ZERO
    value = order.get("shipping_tax_percentage")
    return ZERO if value is None or value == "" else amount(value, "shipping_tax_percentage")


def _coupon_description(order: CcvJson) -> str:
    code = text((order.get("discountcoupon") or {}).get("code"))
    return f"Kortingscode {code}" if code else "Korting"


# --- the order --------------------------------------------------------------


def map_order(order: CcvJson, rows: Sequence[CcvJson]) -> CanonicalOrder:
    """The canonical order; raises MappingError (or the contract's ValidationError
    when the amounts do not add up to CCV's own totals)."""
    if order.get("is_completed") is not True:
        raise MappingError("the checkout was not completed")
    number = order_number(order)
    if not number:
        raise MappingError("the order has no order number")
    if not rows:
        raise MappingError("the order has no rows")
    status = order.get("status")
    if status not in STATUSES:
        raise MappingError(f"unknown status {status!r}")
    includes_vat = order.get("order_row_taxes_included") is not False
    goods = _goods_per_rate(rows)
    lines = [map_row(row, includes_vat) for row in rows]

    extra_costs = optional_money(order, "extra_costs")
    shipping_rate = _shipping_rate(order)
    if extra_costs > 0:
        extra_excl, extra_incl = split_vat(extra_costs, shipping_rate, includes_vat)
        lines.append(
            OrderLine(
                description=text(order.get("extra_costs_description")) or "Extra kosten",
                quantity=Decimal(1),
                unit_price_excl_vat=extra_excl,
                unit_price_incl_vat=extra_incl,
                vat_rate=shipping_rate,
                total_excl_vat=extra_excl,
                total_incl_vat=extra_incl,
            )
        )
    discounts = [
        *_discounts(
            optional_money(order, "total_discounts"),
            _coupon_description(order),
            goods,
            includes_vat,
        ),
        *_discounts(
            optional_money(order, "credit_point_discount"),
            "Korting spaarpunten",
            goods,
            includes_vat,
        ),
        *_discounts(
            max(ZERO, -extra_costs),
            text(order.get("extra_costs_description")) or "Korting",
            goods,
            includes_vat,
        ),
    ]
    shipping_amount = optional_money(order, "total_shipping")
    shipping = None
    if shipping_amount != 0:
        excl, incl = split_vat(shipping_amount, shipping_rate, includes_vat)
        shipping = Charge(
            description="Verzendkosten",
            amount_excl_vat=excl,
            amount_incl_vat=incl,
            vat_rate=shipping_rate,
        )
    label = text(order.get("paymethod_label"))
    payment_costs = _payment_costs(
        optional_money(order, "paymethod_costs"),
        f"Betaalkosten {label}" if label else "Betaalkosten",
        goods,
        includes_vat,
    )

    total = money(order.get("total_price"), "total_price")
    vat = money(order.get("total_tax"), "total_tax")
    customer = order.get("customer") or {}
    billing = customer.get("billingaddress") or {}
    delivery = customer.get("deliveryaddress") or {}
    billing_address = parties.address(billing, None)
    return CanonicalOrder(
        source_order_id=str(order["id"]),
        order_number=number,
        status=STATUSES[status],
        source_status=str(status),
        paid=order.get("paid") is True,
        placed_at=moment(order.get("create_date"), "create_date"),
        currency=text(order.get("currency")) or "EUR",
        prices_include_vat=includes_vat,
        customer=parties.customer(customer, billing),
        billing_address=billing_address,
        shipping_address=(
            parties.address(delivery, billing_address.country_code)
            if parties.is_filled(delivery)
            else None
        ),
        payment_method=text(order.get("paymethod")),
        lines=lines,
        discounts=discounts,
        shipping=shipping,
        payment_costs=payment_costs,
        totals=OrderTotals(total_incl_vat=total, total_vat=vat, total_excl_vat=total - vat),
    )

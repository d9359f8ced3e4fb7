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

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from koppel_contracts import (
    Address,
    CanonicalOrder,
    Charge,
    Customer,
    OrderDiscount,
    OrderLine,
    OrderStatus,
    OrderSummary,
    OrderTotals,
    content_hash,
    round_cents,
)

CcvJson = Mapping[str, Any]

CANCELLED = 8
EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
ZERO = Decimal(0)
UNIT_PRICE_PLACES = Decimal("0.0001")

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

# CCV gives `country_code` null now and then but always the (Dutch) name.
COUNTRY_NAMES = {
    "nederland": "NL",
    "netherlands": "NL",
    "the netherlands": "NL",
    "belgië": "BE",
    "belgie": "BE",
    "belgium": "BE",
    "duitsland": "DE",
    "deutschland": "DE",
    "germany": "DE",
    "frankrijk": "FR",
    "france": "FR",
    "luxemburg": "LU",
    "luxembourg": "LU",
}

# Fields whose change means "the order changed" without fetching its rows;
# the reconciliation poll compares them to decide what to re-read.
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

# Canonical fields that follow the order's progress rather than what is booked.
PROGRESS_FIELDS = frozenset({"status", "source_status", "paid", "paid_at"})


class MappingError(ValueError):
    """The CCV order cannot be read as a bookable order; the message says why."""


# --- order state ------------------------------------------------------------


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


def booking_fingerprint(order: CanonicalOrder) -> str:
    """What a ledger books: the order without its progress (status, paid flag).

    A status moving from 'in process' to 'sent' changes nothing to book, so it
    is not republished; any change of lines, amounts, customer or source id is.
    """
    return content_hash(order.model_dump(mode="json", exclude=set(PROGRESS_FIELDS)))


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
            placed_on=_moment(order.get("create_date"), "create_date").date(),
            total_incl_vat=_amount(order.get("total_price"), "total_price"),
            currency=str(order.get("currency") or "EUR"),
            customer_name=_text(billing.get("full_name")),
        )
    except (MappingError, ValueError, KeyError, TypeError):
        return None


# --- amounts ----------------------------------------------------------------


def _amount(value: Any, field: str) -> Decimal:
    if isinstance(value, bool) or isinstance(value, float):
        # parse_float=Decimal means a float here is a programming error upstream.
        raise MappingError(f"{field} is {value!r}, expected a decimal number")
    if value is None or value == "":
        raise MappingError(f"{field} is missing")
    try:
        amount = Decimal(value) if isinstance(value, int | Decimal) else Decimal(str(value))
    except InvalidOperation:
        raise MappingError(f"{field} is {value!r}, not a number") from None
    if not amount.is_finite():
        raise MappingError(f"{field} is {value!r}, not a finite number")
    return amount


def _money(value: Any, field: str) -> Decimal:
    amount = _amount(value, field)
    # 49.9 and 49.90 are one amount; cents keep the published text (and hash) stable.
    return round_cents(amount) if amount == round_cents(amount) else amount


def _optional_money(order: CcvJson, field: str) -> Decimal:
    value = order.get(field)
    return ZERO if value is None or value == "" else _money(value, field)


def split_vat(amount: Decimal, rate: Decimal, includes_vat: bool) -> tuple[Decimal, Decimal]:
    """(excl, incl) of an amount stated in the given basis; the derived side to the cent."""
    if includes_vat:
        return round_cents(amount * 100 / (100 + rate)), amount
    return amount, round_cents(amount * (100 + rate) / 100)


def allocate(amount: Decimal, weights: Mapping[Decimal, Decimal]) -> dict[Decimal, Decimal]:
    """Split `amount` over the keys in proportion to `weights`, to the cent, summing exactly."""
    total = sum(weights.values(), ZERO)
    if total == 0:
        raise MappingError(f"cannot spread {amount} over goods that total 0")
    shares = {key: round_cents(amount * weight / total) for key, weight in weights.items()}
    # The rounding leftover goes to the largest weight, so the parts add up exactly.
    largest = max(weights, key=lambda key: weights[key])
    shares[largest] += amount - sum(shares.values(), ZERO)
    return {key: share for key, share in shares.items() if share != 0}


def _unit_price(amount: Decimal, quantity: Decimal) -> Decimal:
    unit = (amount / quantity).quantize(UNIT_PRICE_PLACES, rounding=ROUND_HALF_UP)
    # At least cents, no trailing zeros beyond: "24.95" and "68.125", not "24.9500".
    return round_cents(unit) if unit == round_cents(unit) else unit.normalize()


def _rate_label(rate: Decimal) -> str:
    return f"{rate.normalize():f}% btw"


# --- rows -------------------------------------------------------------------


def map_row(row: CcvJson, includes_vat: bool) -> OrderLine:
    where = f"order row {row.get('id')}"
    quantity = _amount(row.get("count"), f"{where}: count")
    if quantity <= 0:
        raise MappingError(f"{where}: count is {quantity}")
    price = _money(row.get("price"), f"{where}: price")
    total = _money(row.get("total_price"), f"{where}: total_price")
    rate = _amount(row.get("tax"), f"{where}: tax")
    # `price` is before the row discount; options can make the total higher
    # than count x price, in which case the total itself is the gross amount.
    gross = max(quantity * price, total)
    gross_excl, gross_incl = split_vat(gross, rate, includes_vat)
    total_excl, total_incl = split_vat(total, rate, includes_vat)
    return OrderLine(
        sku=_text(row.get("sub_product_number")) or _text(row.get("product_number")),
        ean=_text(row.get("sub_ean_number")),
        description=_row_description(row),
        quantity=quantity,
        unit_price_excl_vat=_unit_price(gross_excl, quantity),
        unit_price_incl_vat=_unit_price(gross_incl, quantity),
        vat_rate=rate,
        discount_excl_vat=gross_excl - total_excl,
        discount_incl_vat=gross_incl - total_incl,
        total_excl_vat=total_excl,
        total_incl_vat=total_incl,
    )


def _row_description(row: CcvJson) -> str:
    name = _text(row.get("product_name")) or _text(row.get("product_number")) or "Artikel"
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
        rate = _amount(row.get("tax"), "order row tax")
        goods[rate] = goods.get(rate, ZERO) + _money(row.get("total_price"), "row total_price")
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
        label = f"{description} ({_rate_label(rate)})" if len(shares) > 1 else description
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
    return ZERO if value is None or value == "" else _amount(value, "shipping_tax_percentage")


def _coupon_description(order: CcvJson) -> str:
    code = _text((order.get("discountcoupon") or {}).get("code"))
    return f"Kortingscode {code}" if code else "Korting"


# --- customer ---------------------------------------------------------------


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _country(address: CcvJson) -> str | None:
    code = _text(address.get("country_code"))
    if code:
        return code.upper()
    name = _text(address.get("country"))
    return COUNTRY_NAMES.get(name.lower()) if name else None


def _address(address: CcvJson, fallback_country: str | None) -> Address:
    country = _country(address) or fallback_country
    if not country:
        raise MappingError("the address has no country code and an unknown country name")
    first, last = _text(address.get("first_name")), _text(address.get("last_name"))
    street = _text(address.get("street"))
    number = address.get("housenumber")
    return Address(
        company_name=_text(address.get("company")),
        full_name=_text(address.get("full_name")) or _text(" ".join(filter(None, [first, last]))),
        street=street,
        house_number=str(number) if number not in (None, "", 0) else None,
        house_number_suffix=_text(address.get("housenumber_suffix")),
        address_line=None if street else _text(address.get("address_line_1")),
        postal_code=_text(address.get("zipcode")),
        city=_text(address.get("city")),
        country_code=country,
    )


def _is_filled(address: CcvJson) -> bool:
    """CCV sends a blank delivery address when it equals the billing address."""
    return any(_text(address.get(k)) for k in ("street", "address_line_1", "zipcode", "city"))


def _email(value: Any) -> str | None:
    # A typo in the customer's e-mail must not stop the booking; debtor
    # matching then falls back to name and address.
    text = _text(value)
    return text if text and EMAIL.fullmatch(text) else None


def _customer(customer: CcvJson, billing: CcvJson) -> Customer:
    return Customer(
        email=_email(customer.get("email")),
        first_name=_text(billing.get("first_name")),
        last_name=_text(billing.get("last_name")),
        company_name=_text(billing.get("company")),
        vat_number=_text(customer.get("btw")),
        phone=_text(billing.get("telephone")) or _text(billing.get("mobile")),
    )


def _moment(value: Any, field: str) -> datetime:
    text = _text(value)
    if not text:
        raise MappingError(f"{field} is missing")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise MappingError(f"{field} is {text!r}, not an ISO-8601 timestamp") from None
    if moment.tzinfo is None:
        raise MappingError(f"{field} is {text!r}, without a time zone")
    return moment


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

    extra_costs = _optional_money(order, "extra_costs")
    shipping_rate = _shipping_rate(order)
    if extra_costs > 0:
        extra_excl, extra_incl = split_vat(extra_costs, shipping_rate, includes_vat)
        lines.append(
            OrderLine(
                description=_text(order.get("extra_costs_description")) or "Extra kosten",
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
            _optional_money(order, "total_discounts"),
            _coupon_description(order),
            goods,
            includes_vat,
        ),
        *_discounts(
            _optional_money(order, "credit_point_discount"),
            "Korting spaarpunten",
            goods,
            includes_vat,
        ),
        *_discounts(
            max(ZERO, -extra_costs),
            _text(order.get("extra_costs_description")) or "Korting",
            goods,
            includes_vat,
        ),
    ]
    shipping_amount = _optional_money(order, "total_shipping")
    shipping = None
    if shipping_amount != 0:
        excl, incl = split_vat(shipping_amount, shipping_rate, includes_vat)
        shipping = Charge(
            description="Verzendkosten",
            amount_excl_vat=excl,
            amount_incl_vat=incl,
            vat_rate=shipping_rate,
        )
    label = _text(order.get("paymethod_label"))
    payment_costs = _payment_costs(
        _optional_money(order, "paymethod_costs"),
        f"Betaalkosten {label}" if label else "Betaalkosten",
        goods,
        includes_vat,
    )

    total = _money(order.get("total_price"), "total_price")
    vat = _money(order.get("total_tax"), "total_tax")
    customer = order.get("customer") or {}
    billing = customer.get("billingaddress") or {}
    delivery = customer.get("deliveryaddress") or {}
    billing_address = _address(billing, None)
    return CanonicalOrder(
        source_order_id=str(order["id"]),
        order_number=number,
        status=STATUSES[status],
        source_status=str(status),
        paid=order.get("paid") is True,
        placed_at=_moment(order.get("create_date"), "create_date"),
        currency=_text(order.get("currency")) or "EUR",
        prices_include_vat=includes_vat,
        customer=_customer(customer, billing),
        billing_address=billing_address,
        shipping_address=(
            _address(delivery, billing_address.country_code) if _is_filled(delivery) else None
        ),
        payment_method=_text(order.get("paymethod")),
        lines=lines,
        discounts=discounts,
        shipping=shipping,
        payment_costs=payment_costs,
        totals=OrderTotals(total_incl_vat=total, total_vat=vat, total_excl_vat=total - vat),
    )

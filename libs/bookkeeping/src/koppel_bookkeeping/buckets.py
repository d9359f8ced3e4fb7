"""Exact amounts per (kind, rate): the order's parts put in the bucket of their VAT rate.

Goods are grouped per rate. An order discount with a rate reduces that rate's goods;
one without reduces every rate in proportion to its goods (vat-nl-eu.md §7). A charge
(shipping, payment costs) with a rate stays at that rate when the merchant books as
charged (the default); a charge without a rate, or every charge when the merchant
re-splits, follows the goods in proportion to their consideration per rate (§6).
Everything here is exact (Fraction); whole cents come later (rounding.py).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from koppel_contracts import CanonicalOrder, Charge

from .allocation import (
    HUNDRED,
    cents_to_decimal,
    exact,
    proportional,
    round_half_up,
    to_cents_exact,
)
from .model import BookingLineKind
from .rates import canonical_rate
from .refusals import BookingRefused, RefusalCode

Key = tuple[BookingLineKind, Decimal]  # one future booking line: (kind, rate)
KIND_ORDER = list(BookingLineKind)
CHARGE_KINDS = (BookingLineKind.SHIPPING, BookingLineKind.PAYMENT_COSTS)


@dataclass(frozen=True)
class RatedCharge:
    """A charge booked at the rate the shop gave it."""

    kind: BookingLineKind
    charge: Charge
    rate: Decimal


@dataclass
class Allocation:
    side: str  # "incl" or "excl": which of the shop's amounts
    rates: list[Decimal]  # every rate with a bucket, highest first
    goods_rates: list[Decimal]  # the goods lines' rates, highest first
    amounts: dict[Key, Fraction]  # euros, exact
    names: dict[Key, list[str]]  # the shop's descriptions
    goods: dict[Decimal, Fraction]
    cost_weights: dict[Decimal, Fraction]  # §6: how costs follow the goods, per goods rate
    parts: list[Decimal]  # every amount the order adds up, signed (for the exact difference)
    # Per rate, the VAT the shop put on its amounts: incl - excl of every rated part, plus
    # what the shares of unrated parts contain at the rate. Used on the excl basis.
    shop_vat: dict[Decimal, Fraction] = field(default_factory=lambda: defaultdict(Fraction))
    rated_charges: list[RatedCharge] = field(default_factory=list)

    def resplit_rates(self) -> list[Decimal]:
        """The rates §6 gives a cost: the goods rates with a share, highest first."""
        return [rate for rate in self.goods_rates if self.cost_weights[rate] > 0]


def allocate(order: CanonicalOrder, side: str, *, zero_rated: bool, as_charged: bool) -> Allocation:
    """Exact amounts per (kind, rate) from one side ("incl" or "excl") of the shop's amounts.

    zero_rated: ICP or export, where every amount is 0% whatever rate the shop gave it.
    as_charged: a charge with a rate stays at that rate (ChargeVat.AS_CHARGED).
    """

    def rate_of(rate: Decimal) -> Decimal:
        return Decimal(0) if zero_rated else canonical_rate(rate)

    goods: dict[Decimal, Fraction] = {}
    parts: list[Decimal] = []
    shop_vat: dict[Decimal, Fraction] = defaultdict(Fraction)
    for line in order.lines:
        amount = getattr(line, f"total_{side}_vat")
        parts.append(amount)
        rate = rate_of(line.vat_rate)
        goods[rate] = goods.get(rate, Fraction(0)) + exact(amount)
        if not zero_rated:
            shop_vat[rate] += exact(line.total_incl_vat) - exact(line.total_excl_vat)
    for rate, amount in goods.items():
        if amount < 0:
            raise BookingRefused(
                RefusalCode.NEGATIVE_GOODS_AMOUNT,
                {"order_number": order.order_number, "rate": rate, "amount": euros(amount)},
            )
    goods_rates = sorted(goods, reverse=True)
    alloc = Allocation(side, goods_rates, goods_rates, {}, {}, goods, {}, parts, shop_vat)
    for rate in goods_rates:
        alloc.amounts[(BookingLineKind.GOODS, rate)] = goods[rate]

    discounts = _allocate_discounts(order, zero_rated, alloc)
    alloc.cost_weights = _cost_weights(goods_rates, goods, discounts)
    weights = [alloc.cost_weights[rate] for rate in goods_rates]
    for kind, charge in zip(CHARGE_KINDS, (order.shipping, order.payment_costs), strict=True):
        if charge is None:
            continue
        amount = getattr(charge, f"amount_{side}_vat")
        parts.append(amount)
        if as_charged and charge.vat_rate is not None and not zero_rated:
            rate = rate_of(charge.vat_rate)
            key = (kind, rate)
            alloc.amounts[key] = alloc.amounts.get(key, Fraction(0)) + exact(amount)
            alloc.names[key] = [charge.description]
            shop_vat[rate] += exact(charge.amount_incl_vat) - exact(charge.amount_excl_vat)
            alloc.rated_charges.append(RatedCharge(kind, charge, rate))
            continue
        for rate, share in zip(goods_rates, proportional(exact(amount), weights), strict=True):
            alloc.amounts[(kind, rate)] = share
            alloc.names[(kind, rate)] = [charge.description]
            shop_vat[rate] += _contained_vat(share, rate, side)
    alloc.rates = sorted({key[1] for key in alloc.amounts}, reverse=True)
    return alloc


def _cost_weights(
    rates: list[Decimal], goods: dict[Decimal, Fraction], discounts: dict[Decimal, Fraction]
) -> dict[Decimal, Fraction]:
    """§6: costs follow the goods in proportion to their consideration per rate, i.e.
    after discounts. Free goods still carry the costs: then the gross goods decide, and
    with no goods amount at all the highest rate."""
    weights = [goods[rate] - discounts[rate] for rate in rates]
    if sum(weights) == 0:
        weights = [goods[rate] for rate in rates]
    if sum(weights) == 0:
        weights = [Fraction(1)] + [Fraction(0)] * (len(rates) - 1)
    return dict(zip(rates, weights, strict=True))


def _allocate_discounts(
    order: CanonicalOrder, zero_rated: bool, alloc: Allocation
) -> dict[Decimal, Fraction]:
    """Order discounts per rate (positive reductions); raises when a rate would go negative."""
    rates, goods, side = alloc.goods_rates, alloc.goods, alloc.side
    per_rate = {rate: Fraction(0) for rate in rates}
    names: dict[Decimal, list[str]] = {rate: [] for rate in rates}
    # Unrated discounts reduce every rate in proportion to its goods (§7).
    gross = [goods[rate] for rate in rates]
    for discount in order.discounts:
        amount = getattr(discount, f"amount_{side}_vat")
        alloc.parts.append(-amount)
        if amount == 0:
            continue
        if discount.vat_rate is not None and not zero_rated:
            rate = canonical_rate(discount.vat_rate)
            if rate not in per_rate:
                raise _discount_refusal(order, rate, exact(amount), Fraction(0))
            per_rate[rate] += exact(amount)
            names[rate].append(discount.description)
            alloc.shop_vat[rate] -= exact(discount.amount_incl_vat) - exact(
                discount.amount_excl_vat
            )
            continue
        if sum(gross) <= 0:
            raise _discount_refusal(order, None, exact(amount), Fraction(0))
        for rate, share in zip(rates, proportional(exact(amount), gross), strict=True):
            per_rate[rate] += share
            if not zero_rated:
                alloc.shop_vat[rate] -= _contained_vat(share, rate, side)
            if share:
                names[rate].append(discount.description)
    total_discount = sum(per_rate.values(), Fraction(0))
    total_goods = sum(gross, Fraction(0))
    if total_discount > total_goods:
        raise _discount_refusal(order, None, total_discount, total_goods)
    for rate in rates:
        if per_rate[rate] > goods[rate]:
            raise _discount_refusal(order, rate, per_rate[rate], goods[rate])
        alloc.amounts[(BookingLineKind.DISCOUNT, rate)] = -per_rate[rate]
        alloc.names[(BookingLineKind.DISCOUNT, rate)] = names[rate]
    return per_rate


def _contained_vat(amount: Fraction, rate: Decimal, side: str) -> Fraction:
    """The VAT exactly contained in (incl) or due on (excl) an amount at a rate."""
    r = exact(rate)
    return amount * r / (HUNDRED + r) if side == "incl" else amount * r / HUNDRED


def _discount_refusal(
    order: CanonicalOrder, rate: Decimal | None, discount: Fraction, goods: Fraction
) -> BookingRefused:
    return BookingRefused(
        RefusalCode.DISCOUNT_EXCEEDS_GOODS,
        {
            "order_number": order.order_number,
            "rate": rate,
            "discount": euros(discount),
            "goods": euros(goods),
        },
    )


def euros(amount: Fraction) -> Decimal:
    """An exact amount in euros as whole cents (half-up)."""
    return cents_to_decimal(round_half_up(to_cents_exact(amount)))

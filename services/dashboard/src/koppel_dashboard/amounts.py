"""Money figures of an order as the shop charged them: totals and VAT per rate.

Amounts are `Decimal` in code and decimal strings in MongoDB and CSV, never floats. The
VAT per rate the ledger's check reports (`expected_vat`) is authoritative once it is there;
before that, `shop_vat_per_rate` reads it off the order: the VAT each line and each rated
charge or discount carries, with unrated costs and discounts spread over the goods' rates
in proportion to the goods (as vat-nl-eu.md §6 describes for costs).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal

from koppel_contracts import CanonicalOrder, round_cents


def rate_key(rate: Decimal | str) -> str:
    """One spelling per rate: "21", "9", "5.5" (never "21.00" or "2.1E+1")."""
    value = Decimal(str(rate))
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return format(value.normalize(), "f")


def shop_vat_per_rate(order: CanonicalOrder) -> dict[str, Decimal]:
    per_rate: dict[str, Decimal] = defaultdict(Decimal)
    goods: dict[str, Decimal] = defaultdict(Decimal)
    for line in order.lines:
        per_rate[rate_key(line.vat_rate)] += line.total_incl_vat - line.total_excl_vat
        goods[rate_key(line.vat_rate)] += line.total_incl_vat
    unrated = Decimal(0)
    for discount in order.discounts:
        vat = -(discount.amount_incl_vat - discount.amount_excl_vat)
        if discount.vat_rate is None:
            unrated += vat
        else:
            per_rate[rate_key(discount.vat_rate)] += vat
    for charge in order.charges:
        vat = charge.amount_incl_vat - charge.amount_excl_vat
        if charge.vat_rate is None:
            unrated += vat
        else:
            per_rate[rate_key(charge.vat_rate)] += vat
    if unrated:
        _spread(per_rate, unrated, goods)
    return {rate: round_cents(amount) for rate, amount in per_rate.items()}


def _spread(per_rate: dict[str, Decimal], amount: Decimal, weights: Mapping[str, Decimal]) -> None:
    total = sum(weights.values(), Decimal(0))
    if not total:
        return
    rates = sorted(weights, key=lambda r: Decimal(r), reverse=True)
    shares = {r: round_cents(amount * weights[r] / total) for r in rates}
    # Whatever rounding left over goes to the largest share, so the parts add up exactly.
    largest = max(rates, key=lambda r: abs(weights[r]))
    shares[largest] += round_cents(amount) - sum(shares.values(), Decimal(0))
    for rate, share in shares.items():
        per_rate[rate] += share


def add_rates(into: dict[str, Decimal], rates: Mapping[str, Decimal | str]) -> None:
    for rate, amount in rates.items():
        into[rate] = into.get(rate, Decimal(0)) + Decimal(str(amount))


def rates_to_strings(rates: Mapping[str, Decimal]) -> dict[str, str]:
    return {rate: format(amount, "f") for rate, amount in rates.items()}


def rates_from_pairs(pairs: Iterable[Mapping[str, str]]) -> dict[str, Decimal]:
    """`[{"vat_rate": "21", "amount": "1.05"}]` (RateAmount as JSON) -> {"21": Decimal}."""
    found: dict[str, Decimal] = {}
    for pair in pairs:
        key = rate_key(pair["vat_rate"])
        found[key] = found.get(key, Decimal(0)) + Decimal(str(pair["amount"]))
    return found


def sorted_rates(rates: Iterable[str]) -> list[str]:
    return sorted(set(rates), key=Decimal, reverse=True)

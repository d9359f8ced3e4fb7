"""Whole cents that add up: the exact buckets in cents, and the VAT each rate was charged.

1. The matrix of (kind, rate) amounts becomes whole cents by largest remainder, one kind
   at a time, so the shipping lines add up to the shipping charge and every line stays
   within a cent of its exact amount.
2. The VAT of a rate is decided once, on the rate's whole-cent total (vat-nl-eu.md §7):
   on the incl basis the VAT that total contains; on the excl basis the VAT the shop put
   on its amounts at that rate, when each of the rate's lines can carry it (a cent per
   line at most from §7's figure), otherwise the order is planned from its incl amounts.
3. The shop's stated total wins over the sum of its parts: the difference (within the
   contract's tolerance) goes on revenue, a cent at a time on the largest lines, never
   on VAT, and is recorded per rate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from koppel_contracts import CanonicalOrder, summing_tolerance

from .allocation import (
    HUNDRED,
    apportion,
    cents_to_decimal,
    exact,
    round_half_up,
    to_cents_exact,
)
from .buckets import KIND_ORDER, Allocation, Key
from .model import AmountBasis, BookingLineKind
from .refusals import BookingRefused, RefusalCode

# The stated total is rounded to whole cents before it is compared with its exact parts,
# which adds up to half a cent to the contract's cent per amount.
HALF_CENT = Decimal("0.005")
# Excl basis: how many cents a booked line may carry of the difference between the VAT
# the shop put on a rate's amounts and §7's per-rate figure. Ledgers accept a line's VAT
# within a cent of rate x amount (SnelStart, Octopus), so one.
SHOP_VAT_CENTS_PER_LINE = 1


def total_tolerance(part_count: int) -> Decimal:
    """How far the stated total may be from the exact sum of its parts (contract: a cent
    per amount) once it has been rounded to whole cents."""
    return summing_tolerance(part_count) + HALF_CENT


def vat_tolerance(part_count: int) -> Decimal:
    """How far the stated total VAT may be from the VAT its parts carry (incl - excl of
    every line, discount and cost): the contract lets the stated incl and excl totals
    each be a cent per amount from their parts, and the total VAT a cent from incl -
    excl, so together this much."""
    return 2 * summing_tolerance(part_count) + summing_tolerance(1)


@dataclass
class Cell:
    """One future booking line, in whole cents."""

    kind: BookingLineKind
    rate: Decimal
    excl: int
    vat: int

    @property
    def incl(self) -> int:
        return self.excl + self.vat

    @property
    def key(self) -> Key:
        return (self.kind, self.rate)


@dataclass
class Booked:
    basis: AmountBasis
    cells: list[Cell]
    difference: Decimal  # stated total - recomputed total, euros (exact)
    rate_differences: dict[Decimal, int]  # cents of the difference on each rate's revenue


def round_matrix(alloc: Allocation, total_cents: int) -> dict[Key, int]:
    """Whole cents per (kind, rate), adding up to total_cents.

    First each kind's row total (so shipping lines add up to the shipping charge),
    then each row over the rates; both with largest remainders, so every cell is
    within a cent of its exact amount and the grand total is exact.
    """
    kinds = [k for k in BookingLineKind if any((k, r) in alloc.amounts for r in alloc.rates)]
    rows = {
        k: [alloc.amounts.get((k, r), Fraction(0)) * HUNDRED for r in alloc.rates] for k in kinds
    }
    row_totals = apportion([sum(row, Fraction(0)) for row in rows.values()], total_cents)
    cents: dict[Key, int] = {}
    for kind, row_total in zip(kinds, row_totals, strict=True):
        for rate, value in zip(alloc.rates, apportion(rows[kind], row_total), strict=True):
            if (kind, rate) in alloc.amounts:
                cents[(kind, rate)] = value
    return cents


def book_from_incl(alloc: Allocation, target: int, order: CanonicalOrder) -> Booked:
    """Incl-VAT amounts are authoritative: a rate's VAT is what its total contains.

    excl_r = round_half_up(G_r x 100/(100+r)), vat_r = G_r - excl_r (vat-nl-eu.md §7),
    on the rate's whole-cent total G_r; the lines of the rate share excl_r by largest
    remainder. Then the stated total: its difference from the parts goes on revenue.
    """
    difference = cents_to_decimal(target) - _decimal_sum(alloc.parts)
    if abs(difference) > total_tolerance(len(alloc.parts)):
        raise totals_refusal(order, alloc)
    parts_total = round_half_up(to_cents_exact(_exact_sum(alloc.parts)))
    incl = round_matrix(alloc, parts_total)
    cells: list[Cell] = []
    for rate in alloc.rates:
        rate_keys = [key for key in incl if key[1] == rate]
        net_share = HUNDRED / (HUNDRED + exact(rate))
        total_excl = round_half_up(sum(incl[k] for k in rate_keys) * net_share)
        excl = apportion([incl[k] * net_share for k in rate_keys], total_excl)
        cells += [Cell(k[0], rate, e, incl[k] - e) for k, e in zip(rate_keys, excl, strict=True)]
    on_rates = _spread_on_revenue(cells, alloc, target - parts_total)
    if on_rates is None:
        raise totals_refusal(order, alloc)
    return Booked(AmountBasis.INCL_VAT, cells, difference, on_rates)


def book_from_excl(alloc: Allocation, target: int) -> Booked | None:
    """Excl-VAT amounts are authoritative: a rate's VAT is what the shop put on them.

    §7's figure is round_half_up(E_r x r/100) on the rate's whole-cent total E_r. A B2B
    shop computes VAT per line, so its VAT per rate (incl - excl of its amounts at the
    rate) can differ from that by its own rounding: that difference is booked as the
    rate's VAT, a cent per line at most. More than that, or a stated total further from
    excl + VAT than the contract allows: None, and the caller plans from the incl amounts.
    """
    total_excl = round_half_up(to_cents_exact(_exact_sum(alloc.parts)))
    excl = round_matrix(alloc, total_excl)
    cells: list[Cell] = []
    for rate in alloc.rates:
        rate_keys = [key for key in excl if key[1] == rate]
        share = exact(rate) / HUNDRED
        computed = round_half_up(sum(excl[k] for k in rate_keys) * share)
        vats = apportion([excl[k] * share for k in rate_keys], computed)
        rate_cells = [Cell(k[0], rate, excl[k], v) for k, v in zip(rate_keys, vats, strict=True)]
        charged = round_half_up(to_cents_exact(alloc.shop_vat.get(rate, Fraction(0))))
        if charged != computed and not _spread_shop_vat(rate_cells, charged - computed):
            return None
        cells += rate_cells

    recomputed = _decimal_sum(alloc.parts) + cents_to_decimal(sum(c.vat for c in cells))
    difference = cents_to_decimal(target) - recomputed
    if abs(difference) > total_tolerance(len(alloc.parts)):
        return None
    on_rates = _spread_on_revenue(cells, alloc, target - sum(c.incl for c in cells))
    if on_rates is None:
        return None
    return Booked(AmountBasis.EXCL_VAT, cells, difference, on_rates)


def _spread_shop_vat(cells: list[Cell], cents: int) -> bool:
    """The shop's own VAT rounding of one rate onto its lines: largest lines first, at
    most SHOP_VAT_CENTS_PER_LINE each, never flipping a line's sign; False if it does
    not fit (a 0% rate can carry none)."""
    ordered = sorted(cells, key=_largest(lambda c: abs(c.excl)))
    signs = [_sign(c.excl) if c.rate > 0 else 0 for c in ordered]
    spread = spread_cents([c.vat for c in ordered], signs, cents, per_value=SHOP_VAT_CENTS_PER_LINE)
    if spread is None:
        return False
    for cell, vat in zip(ordered, spread, strict=True):
        cell.vat = vat
    return True


def _spread_on_revenue(
    cells: list[Cell], alloc: Allocation, cents: int
) -> dict[Decimal, int] | None:
    """The stated total's difference from the parts onto revenue (never VAT): a cent at a
    time on the largest lines, never flipping a line's sign nor emptying it (a line the
    shop charged stays booked, with its rate). Cents per rate; None when no line can
    take them."""
    ordered = sorted(cells, key=_largest(lambda c: abs(c.incl)))
    signs = [_sign(alloc.amounts.get(c.key, Fraction(0))) for c in ordered]
    spread = spread_cents([c.excl for c in ordered], signs, cents, to_zero=False)
    if spread is None:
        return None
    on_rates: dict[Decimal, int] = {}
    for cell, value in zip(ordered, spread, strict=True):
        if value != cell.excl:
            on_rates[cell.rate] = on_rates.get(cell.rate, 0) + value - cell.excl
            cell.excl = value
    return on_rates


def spread_cents(
    values: list[int],
    signs: list[int],
    amount: int,
    *,
    per_value: int | None = None,
    to_zero: bool = True,
) -> list[int] | None:
    """Add `amount` cents to `values`, one cent per value per round, in the given order.

    A value only takes a cent when it keeps its sign (sign 0: takes nothing), so a
    positive line never turns negative; to_zero=False: nor becomes zero. per_value: the
    most cents one value may take (None: as many rounds as needed). None when the amount
    cannot be placed.
    """
    result = list(values)
    taken = [0] * len(values)
    step = 1 if amount > 0 else -1
    remaining = abs(amount)
    while remaining:
        placed = 0
        for i, sign in enumerate(signs):
            if not remaining:
                break
            if per_value is not None and taken[i] + 1 > per_value:
                continue
            after = (result[i] + step) * sign
            if sign and (after > 0 or (to_zero and after == 0)):
                result[i] += step
                taken[i] += 1
                remaining -= 1
                placed += 1
        if remaining and not placed:
            return None
    return result


def _largest(size: Callable[[Cell], int]) -> Callable[[Cell], tuple[int, int, Decimal]]:
    """Lines by size, then goods before costs, then the higher rate: a stable order."""
    return lambda c: (-size(c), KIND_ORDER.index(c.kind), -c.rate)


def _sign(value: Fraction | int) -> int:
    return (value > 0) - (value < 0)


def totals_refusal(order: CanonicalOrder, alloc: Allocation) -> BookingRefused:
    return BookingRefused(
        RefusalCode.ORDER_TOTALS_MISMATCH,
        {
            "order_number": order.order_number,
            "stated": order.totals.total_incl_vat,
            "computed": _decimal_sum(alloc.parts),
        },
    )


def _decimal_sum(amounts: Iterable[Decimal]) -> Decimal:
    return sum(amounts, Decimal(0))  # exact: runs in DECIMAL_CONTEXT (60 digits)


def _exact_sum(amounts: Iterable[Decimal]) -> Fraction:
    return sum((exact(a) for a in amounts), Fraction(0))

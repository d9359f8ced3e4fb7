"""From a canonical order to a ledger-neutral booking plan.

The plan says, per VAT rate, what is booked as goods, order discount, shipping
and payment costs, on which ledger account and VAT code, with cent-exact
amounts whose total is the order's total. Ledger services translate the plan
into their ledger's payload; they never redo the VAT arithmetic.

Steps (README.md explains the reasoning):
1. decide the VAT treatment (treatment.py);
2. allocate exactly: goods grouped per rate, order discounts per their own rate or
   in proportion to the goods, shipping and payment costs in proportion to the
   goods' consideration per rate (costs follow the goods);
3. round once, with the largest-remainder method, so the lines add up to the order
   total exactly; VAT is computed per rate on the rate's total;
4. check the rates and find the ledger accounts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from enum import StrEnum
from fractions import Fraction

from koppel_contracts import (
    BookingOptions,
    CanonicalOrder,
    Language,
    VatAccountMapping,
    VatTreatment,
    summing_tolerance,
)

from .allocation import (
    DECIMAL_CONTEXT,
    HUNDRED,
    apportion,
    cents_to_decimal,
    exact,
    proportional,
    round_half_up,
    to_cents_exact,
)
from .formatting import country_name, rate_text
from .rates import canonical_rate, domestic_rates, is_plausible_rate
from .refusals import BookingRefused, RefusalCode
from .treatment import TreatmentDecision, decide_treatment


class BookingLineKind(StrEnum):
    """What a booking line is for. Order discounts get their own (negative) lines."""

    GOODS = "goods"
    DISCOUNT = "discount"
    SHIPPING = "shipping"
    PAYMENT_COSTS = "payment_costs"


class AmountBasis(StrEnum):
    """Which of the shop's amounts the plan was computed from."""

    INCL_VAT = "incl_vat"
    EXCL_VAT = "excl_vat"


@dataclass(frozen=True)
class BookingLine:
    """One line per (kind, rate). Amounts are cents; discount lines are negative."""

    kind: BookingLineKind
    description: str
    vat_rate: Decimal
    ledger_account: str
    vat_code: str
    amount_excl_vat: Decimal
    vat_amount: Decimal
    amount_incl_vat: Decimal


@dataclass(frozen=True)
class RateTotal:
    """All lines of one rate together: the figure a ledger's VAT summary carries."""

    vat_rate: Decimal
    ledger_account: str
    vat_code: str
    amount_excl_vat: Decimal
    vat_amount: Decimal
    amount_incl_vat: Decimal


@dataclass(frozen=True)
class BookingPlan:
    """What to book for one order. total_incl_vat is the order total to the cent.

    rounding_difference: the order's stated total minus the total recomputed from the
    shop's authoritative amounts (already included in the lines; see README).
    vat_note: the legal mention for the invoice (ICP, export, OSS), None for domestic.
    """

    order_number: str
    treatment: VatTreatment
    country_code: str
    vat_country: str
    treatment_reason: str
    amount_basis: AmountBasis
    lines: list[BookingLine]
    rate_totals: list[RateTotal]
    total_excl_vat: Decimal
    total_vat: Decimal
    total_incl_vat: Decimal
    rounding_difference: Decimal
    vat_note: str | None


def plan_booking(
    order: CanonicalOrder,
    mapping: BookingOptions,
    seller_country: str = "NL",
    *,
    destination_taxation: bool | None = None,
    language: Language = Language.NL,
) -> BookingPlan:
    """Plan the booking of an order; raises BookingRefused when it must not be booked.

    destination_taxation: whether EU consumers pay destination VAT (OSS). None means:
    the merchant does OSS exactly when the mapping has OSS accounts (see README).
    language: of the line descriptions and the VAT note.
    """
    with localcontext(DECIMAL_CONTEXT):
        return _plan_booking(order, mapping, seller_country, destination_taxation, language)


def _plan_booking(
    order: CanonicalOrder,
    mapping: BookingOptions,
    seller_country: str,
    destination_taxation: bool | None,
    language: Language,
) -> BookingPlan:
    if destination_taxation is None:
        destination_taxation = any(m.treatment == VatTreatment.OSS for m in mapping.vat_accounts)
    decision = decide_treatment(order, seller_country, destination_taxation=destination_taxation)
    zero_rated = decision.treatment in (VatTreatment.ICP, VatTreatment.EXPORT)
    if not zero_rated:
        _check_plausible_rates(order)

    target = round_half_up(to_cents_exact(exact(order.totals.total_incl_vat)))
    booked: _Booked | None = None
    if not order.prices_include_vat:
        booked = _book_from_excl(_allocate(order, "excl", zero_rated), target)
    if booked is None:
        # Incl-VAT prices, or excl-VAT amounts that cannot reach the order total within
        # a cent of VAT per line: the amounts the customer paid are then authoritative.
        booked = _book_from_incl(_allocate(order, "incl", zero_rated), target, order)

    cells = [cell for cell in booked.cells if cell.excl or cell.vat]
    if not cells:
        raise BookingRefused(RefusalCode.EMPTY_ORDER, {"order_number": order.order_number})
    rates = sorted({cell.rate for cell in cells}, reverse=True)
    if decision.treatment is not VatTreatment.OSS and not zero_rated:
        _check_domestic_rates(order, decision, rates)
    accounts = {rate: _account_for(order, mapping, decision, rate) for rate in rates}
    return _assemble(order, decision, booked, cells, accounts, language)


_Key = tuple[BookingLineKind, Decimal]  # one future booking line: (kind, rate)
_KIND_ORDER = list(BookingLineKind)


# --- allocation: exact amounts per (kind, rate) -------------------------------------------------


@dataclass
class _Allocation:
    rates: list[Decimal]  # goods rates, highest first
    amounts: dict[_Key, Fraction]  # euros, exact
    names: dict[_Key, list[str]]  # the shop's descriptions
    goods: dict[Decimal, Fraction]
    parts: list[Decimal]  # every amount the order adds up (for the exact difference)


def _allocate(order: CanonicalOrder, side: str, zero_rated: bool) -> _Allocation:
    """Exact amounts per (kind, rate) from one side ("incl" or "excl") of the shop's amounts."""

    def rate_of(rate: Decimal) -> Decimal:
        return Decimal(0) if zero_rated else canonical_rate(rate)

    goods: dict[Decimal, Fraction] = {}
    parts: list[Decimal] = []
    for line in order.lines:
        amount = getattr(line, f"total_{side}_vat")
        parts.append(amount)
        rate = rate_of(line.vat_rate)
        goods[rate] = goods.get(rate, Fraction(0)) + exact(amount)
    for rate, amount in goods.items():
        if amount < 0:
            raise BookingRefused(
                RefusalCode.NEGATIVE_GOODS_AMOUNT,
                {"order_number": order.order_number, "rate": rate, "amount": _euros(amount)},
            )
    rates = sorted(goods, reverse=True)
    alloc = _Allocation(rates, {}, {}, goods, parts)
    for rate in rates:
        alloc.amounts[(BookingLineKind.GOODS, rate)] = goods[rate]

    discounts = _allocate_discounts(order, side, zero_rated, alloc)
    net = {rate: goods[rate] - discounts[rate] for rate in rates}
    # Costs follow the goods in proportion to the goods' consideration per rate
    # (vat-nl-eu.md §6), i.e. after discounts. Free goods still carry the costs:
    # then the gross goods decide, and with no goods amount at all the highest rate.
    weights = [net[rate] for rate in rates]
    if sum(weights) == 0:
        weights = [goods[rate] for rate in rates]
    if sum(weights) == 0:
        weights = [Fraction(1)] + [Fraction(0)] * (len(rates) - 1)
    for kind, charge in (
        (BookingLineKind.SHIPPING, order.shipping),
        (BookingLineKind.PAYMENT_COSTS, order.payment_costs),
    ):
        if charge is None:
            continue
        amount = getattr(charge, f"amount_{side}_vat")
        parts.append(amount)
        for rate, share in zip(rates, proportional(exact(amount), weights), strict=True):
            alloc.amounts[(kind, rate)] = share
            alloc.names[(kind, rate)] = [charge.description]
    return alloc


def _allocate_discounts(
    order: CanonicalOrder, side: str, zero_rated: bool, alloc: _Allocation
) -> dict[Decimal, Fraction]:
    """Order discounts per rate (positive reductions); raises when a rate would go negative."""
    rates, goods = alloc.rates, alloc.goods
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
            continue
        if sum(gross) <= 0:
            raise _discount_refusal(order, None, exact(amount), Fraction(0))
        for rate, share in zip(rates, proportional(exact(amount), gross), strict=True):
            per_rate[rate] += share
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


def _discount_refusal(
    order: CanonicalOrder, rate: Decimal | None, discount: Fraction, goods: Fraction
) -> BookingRefused:
    return BookingRefused(
        RefusalCode.DISCOUNT_EXCEEDS_GOODS,
        {
            "order_number": order.order_number,
            "rate": rate,
            "discount": _euros(discount),
            "goods": _euros(goods),
        },
    )


# --- rounding: whole cents that add up ----------------------------------------------------------


@dataclass
class _Cell:
    """One future booking line, in whole cents."""

    kind: BookingLineKind
    rate: Decimal
    excl: int
    vat: int

    @property
    def incl(self) -> int:
        return self.excl + self.vat


@dataclass
class _Booked:
    basis: AmountBasis
    cells: list[_Cell]
    difference: Decimal  # stated total - recomputed total, euros
    names: dict[_Key, list[str]]


def _round_matrix(alloc: _Allocation, total_cents: int) -> dict[_Key, int]:
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
    cents: dict[_Key, int] = {}
    for kind, row_total in zip(kinds, row_totals, strict=True):
        for rate, value in zip(alloc.rates, apportion(rows[kind], row_total), strict=True):
            cents[(kind, rate)] = value
    return cents


def _book_from_incl(alloc: _Allocation, target: int, order: CanonicalOrder) -> _Booked:
    """Incl-VAT amounts are authoritative: VAT per rate is what the rate's total contains.

    excl_r = round(G_r / (1 + r)), vat_r = G_r - excl_r (vat-nl-eu.md §7): the rate's
    VAT is within half a cent of the VAT exactly contained in G_r, and the lines of the
    rate share excl_r by largest remainder. The total is the sum of the G_r, which is
    made the order total before any VAT is computed.
    """
    difference = _difference(alloc, target)
    tolerance = summing_tolerance(len(alloc.parts)) + Decimal("0.005")
    if abs(difference) > tolerance:
        raise _totals_refusal(order, alloc)
    parts_total = round_half_up(to_cents_exact(_exact_sum(alloc.parts)))
    incl = _round_matrix(alloc, parts_total)
    # The shop's stated total wins over the sum of its parts (the difference is at
    # most a cent per amount, the contract's tolerance): a cent at a time onto the
    # largest lines (§7), never flipping a line's sign.
    keys = _largest_first(incl)
    signs = [_sign(alloc.amounts.get(k, Fraction(0))) for k in keys]
    spread = _spread_cents([incl[k] for k in keys], signs, target - parts_total, cycle=True)
    if spread is None:
        raise _totals_refusal(order, alloc)
    incl.update(zip(keys, spread, strict=True))

    cells: list[_Cell] = []
    for rate in alloc.rates:
        rate_keys = _keys_of_rate(incl, rate)
        net_share = HUNDRED / (HUNDRED + exact(rate))
        total_excl = round_half_up(sum(incl[k] for k in rate_keys) * net_share)
        excl = apportion([incl[k] * net_share for k in rate_keys], total_excl)
        cells += [_Cell(k[0], rate, e, incl[k] - e) for k, e in zip(rate_keys, excl, strict=True)]
    return _Booked(AmountBasis.INCL_VAT, cells, difference, alloc.names)


def _book_from_excl(alloc: _Allocation, target: int) -> _Booked | None:
    """Excl-VAT amounts are authoritative: VAT per rate is round(rate x excl_r).

    The lines of a rate share the rate's VAT by largest remainder. The order total
    must still be met: a difference between the shop's total and excl + VAT is the
    shop's own VAT rounding (per line instead of per rate), so it is booked as VAT,
    at most one cent per line with a non-zero rate, largest lines first; the revenue
    stays as the shop invoiced it. When that is not enough, None: the caller books
    from the incl-VAT amounts instead.
    """
    total_excl = round_half_up(to_cents_exact(_exact_sum(alloc.parts)))
    excl = _round_matrix(alloc, total_excl)
    cells: list[_Cell] = []
    for rate in alloc.rates:
        rate_keys = _keys_of_rate(excl, rate)
        share = exact(rate) / HUNDRED
        total_vat = round_half_up(sum(excl[k] for k in rate_keys) * share)
        vats = apportion([excl[k] * share for k in rate_keys], total_vat)
        cells += [_Cell(k[0], rate, excl[k], v) for k, v in zip(rate_keys, vats, strict=True)]

    missing = target - sum(cell.incl for cell in cells)
    order = sorted(
        range(len(cells)),
        key=lambda i: (-abs(cells[i].excl), _KIND_ORDER.index(cells[i].kind), -cells[i].rate),
    )
    # Only lines with a rate can carry VAT, and the VAT keeps the line's sign.
    signs = [_sign(cells[i].excl) if cells[i].rate > 0 else 0 for i in order]
    spread = _spread_cents([cells[i].vat for i in order], signs, missing, cycle=False)
    if spread is None:
        return None
    for i, vat in zip(order, spread, strict=True):
        cells[i].vat = vat
    return _Booked(AmountBasis.EXCL_VAT, cells, cents_to_decimal(missing), alloc.names)


def _spread_cents(
    values: list[int], signs: list[int], amount: int, *, cycle: bool
) -> list[int] | None:
    """Add `amount` cents to `values`, one cent per value in the given order.

    A value only takes a cent when it keeps its sign (sign 0: takes nothing), so a
    positive line never turns negative. cycle: go round again when every value took
    one; otherwise give up. None when the amount cannot be placed.
    """
    result = list(values)
    step = 1 if amount > 0 else -1
    remaining = abs(amount)
    while remaining:
        placed = 0
        for i, sign in enumerate(signs):
            if remaining and sign and (result[i] + step) * sign >= 0:
                result[i] += step
                remaining -= 1
                placed += 1
        if remaining and (not placed or not cycle):
            return None
    return result


def _largest_first(cents: dict[_Key, int]) -> list[_Key]:
    """Lines by size, then goods before costs, then the higher rate: a stable order."""
    return sorted(cents, key=lambda k: (-abs(cents[k]), _KIND_ORDER.index(k[0]), -k[1]))


def _sign(value: Fraction | int) -> int:
    return (value > 0) - (value < 0)


def _totals_refusal(order: CanonicalOrder, alloc: _Allocation) -> BookingRefused:
    return BookingRefused(
        RefusalCode.ORDER_TOTALS_MISMATCH,
        {
            "order_number": order.order_number,
            "stated": order.totals.total_incl_vat,
            "computed": _decimal_sum(alloc.parts),
        },
    )


def _keys_of_rate(cents: dict[_Key, int], rate: Decimal) -> list[_Key]:
    return [key for key in cents if key[1] == rate]


def _difference(alloc: _Allocation, target: int) -> Decimal:
    return cents_to_decimal(target) - _decimal_sum(alloc.parts)


def _decimal_sum(amounts: Iterable[Decimal]) -> Decimal:
    return sum(amounts, Decimal(0))  # exact: runs in DECIMAL_CONTEXT (60 digits)


def _exact_sum(amounts: Iterable[Decimal]) -> Fraction:
    return sum((exact(a) for a in amounts), Fraction(0))


def _euros(amount: Fraction) -> Decimal:
    return cents_to_decimal(round_half_up(to_cents_exact(amount)))


# --- checks and accounts ------------------------------------------------------------------------


def _check_plausible_rates(order: CanonicalOrder) -> None:
    """Rates the arithmetic can use at all; anything else is a shop data error."""
    rates = [line.vat_rate for line in order.lines]
    rates += [d.vat_rate for d in order.discounts if d.vat_rate is not None]
    for rate in rates:
        if not is_plausible_rate(rate):
            raise BookingRefused(
                RefusalCode.UNKNOWN_VAT_RATE,
                {"order_number": order.order_number, "rate": rate},
            )


def _check_domestic_rates(
    order: CanonicalOrder, decision: TreatmentDecision, rates: Sequence[Decimal]
) -> None:
    """The seller's own VAT: every booked rate must exist on the order date."""
    on: date = order.placed_at.date()
    valid = domestic_rates(decision.vat_country, on)
    if valid is None:
        return  # no table for this seller country: the mapping is the only check
    for rate in rates:
        if rate not in valid:
            raise BookingRefused(
                RefusalCode.UNKNOWN_VAT_RATE,
                {
                    "order_number": order.order_number,
                    "rate": rate,
                    "vat_country": decision.vat_country,
                    "destination": decision.country_code,
                    "date": on,
                    "valid_rates": sorted(valid),
                },
            )


def _account_for(
    order: CanonicalOrder, mapping: BookingOptions, decision: TreatmentDecision, rate: Decimal
) -> VatAccountMapping:
    """The merchant's account for (rate, treatment[, country]); the first match wins.

    OSS: an entry for the destination country first; an entry without a country is
    a fallback for every OSS country (OSS revenue accounts are per rate kind, not per
    country, in e.g. SnelStart). Other treatments have no country.
    """
    candidates = [
        m for m in mapping.vat_accounts if m.treatment == decision.treatment and m.vat_rate == rate
    ]
    if decision.treatment is VatTreatment.OSS:
        exact_country = [m for m in candidates if m.country_code == decision.country_code]
        candidates = exact_country or [m for m in candidates if m.country_code is None]
    else:
        candidates.sort(key=lambda m: m.country_code is not None)  # stable: prefer no country
    if not candidates:
        raise BookingRefused(
            RefusalCode.UNMAPPED_VAT_RATE,
            {
                "order_number": order.order_number,
                "rate": rate,
                "treatment": decision.treatment.value,
                "country": decision.country_code
                if decision.treatment is VatTreatment.OSS
                else None,
            },
        )
    return candidates[0]


# --- the plan ------------------------------------------------------------------------------------

_KIND_LABELS: dict[BookingLineKind, tuple[str, str]] = {
    BookingLineKind.GOODS: ("Artikelen", "Goods"),
    BookingLineKind.DISCOUNT: ("Korting", "Discount"),
    BookingLineKind.SHIPPING: ("Verzendkosten", "Shipping"),
    BookingLineKind.PAYMENT_COSTS: ("Betaalkosten", "Payment costs"),
}
_MAX_DESCRIPTION = 120


def _assemble(
    order: CanonicalOrder,
    decision: TreatmentDecision,
    booked: _Booked,
    cells: list[_Cell],
    accounts: dict[Decimal, VatAccountMapping],
    language: Language,
) -> BookingPlan:
    cells = sorted(cells, key=lambda c: (_KIND_ORDER.index(c.kind), -c.rate))
    names = booked.names
    lines = [
        BookingLine(
            kind=cell.kind,
            description=_describe(cell, decision, names.get((cell.kind, cell.rate), []), language),
            vat_rate=cell.rate,
            ledger_account=accounts[cell.rate].ledger_account,
            vat_code=accounts[cell.rate].vat_code,
            amount_excl_vat=cents_to_decimal(cell.excl),
            vat_amount=cents_to_decimal(cell.vat),
            amount_incl_vat=cents_to_decimal(cell.incl),
        )
        for cell in cells
    ]
    rate_totals = [
        RateTotal(
            vat_rate=rate,
            ledger_account=accounts[rate].ledger_account,
            vat_code=accounts[rate].vat_code,
            amount_excl_vat=cents_to_decimal(sum(c.excl for c in cells if c.rate == rate)),
            vat_amount=cents_to_decimal(sum(c.vat for c in cells if c.rate == rate)),
            amount_incl_vat=cents_to_decimal(sum(c.incl for c in cells if c.rate == rate)),
        )
        for rate in sorted(accounts, reverse=True)
    ]
    return BookingPlan(
        order_number=order.order_number,
        treatment=decision.treatment,
        country_code=decision.country_code,
        vat_country=decision.vat_country,
        treatment_reason=decision.reason,
        amount_basis=booked.basis,
        lines=lines,
        rate_totals=rate_totals,
        total_excl_vat=cents_to_decimal(sum(c.excl for c in cells)),
        total_vat=cents_to_decimal(sum(c.vat for c in cells)),
        total_incl_vat=cents_to_decimal(sum(c.incl for c in cells)),
        rounding_difference=booked.difference,
        vat_note=_vat_note(order, decision, language),
    )


def _describe(
    cell: _Cell, decision: TreatmentDecision, names: list[str], language: Language
) -> str:
    nl = language is Language.NL
    label = _KIND_LABELS[cell.kind][0 if nl else 1]
    shop_names = ", ".join(dict.fromkeys(n for n in names if n))
    if shop_names and shop_names.casefold() != label.casefold():
        label = f"{label} ({shop_names})"
    vat = f"{rate_text(cell.rate, language)} {'btw' if nl else 'VAT'}"
    if decision.treatment is VatTreatment.ICP:
        vat += " (intracommunautair)" if nl else " (intra-Community)"
    elif decision.treatment is VatTreatment.EXPORT:
        vat += " (export)"
    elif decision.treatment is VatTreatment.OSS:
        vat += f" {decision.country_code} (OSS)"
    text = f"{label} {vat}"
    if len(text) > _MAX_DESCRIPTION:
        text = f"{text[: _MAX_DESCRIPTION - len(vat) - 2]}… {vat}"
    return text


def _vat_note(order: CanonicalOrder, decision: TreatmentDecision, language: Language) -> str | None:
    """The legal mention a ledger prints on the invoice (vat-nl-eu.md §3-§5)."""
    nl = language is Language.NL
    if decision.treatment is VatTreatment.ICP:
        number = order.customer.vat_number
        if nl:
            return f"Intracommunautaire levering, 0% btw — btw-nummer afnemer: {number}"
        return f"Intra-Community supply, 0% VAT — customer VAT number: {number}"
    if decision.treatment is VatTreatment.EXPORT:
        return "Export buiten de EU, 0% btw" if nl else "Export outside the EU, 0% VAT"
    if decision.treatment is VatTreatment.OSS:
        country = country_name(decision.country_code, language)
        if nl:
            return f"Btw van {country}, aangegeven via de éénloketregeling (OSS)"
        return f"{country} VAT, declared through the One-Stop-Shop (OSS)"
    return None

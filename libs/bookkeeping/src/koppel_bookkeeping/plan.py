"""From a canonical order to a ledger-neutral booking plan.

The plan says, per VAT rate, what is booked as goods, order discount, shipping
and payment costs, on which ledger account and VAT code, with cent-exact
amounts whose total is the order's total and whose VAT per rate is what the shop
charged. Ledger services translate the plan into their ledger's payload; they
never redo the VAT arithmetic.

Steps (README.md explains the reasoning):
1. decide the VAT treatment (treatment.py);
2. put every amount exactly in the bucket of its rate (buckets.py): goods per rate,
   order discounts per their own rate or in proportion to the goods, charges at the
   rate the shop charged or, without one (or when the merchant re-splits), following
   the goods (§6);
3. whole cents and the VAT per rate (rounding.py), the stated total on revenue;
4. check the rates, find the ledger accounts (accounts.py), notices (notices.py).
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal, localcontext

from koppel_contracts import (
    BookingOptions,
    CanonicalOrder,
    ChargeVat,
    Language,
    OssVat,
    VatAccountMapping,
    VatTreatment,
)

from .accounts import (
    account_for,
    check_domestic_rates,
    check_plausible_rates,
    line_account,
    rate_sources,
)
from .allocation import DECIMAL_CONTEXT, cents_to_decimal, exact, round_half_up, to_cents_exact
from .buckets import KIND_ORDER, Key, allocate
from .default_rates import default_rate_notices
from .formatting import country_name, rate_text
from .model import (
    AmountBasis,
    BookingLine,
    BookingLineKind,
    BookingPlan,
    ChargeShare,
    NoticeCode,
    PlanNotice,
    RateTotal,
)
from .notices import charge_notices
from .refusals import BookingRefused, RefusalCode
from .rounding import Booked, Cell, book_from_excl, book_from_incl, vat_tolerance
from .treatment import TreatmentDecision, decide_treatment

__all__ = [
    "AmountBasis",
    "BookingLine",
    "BookingLineKind",
    "BookingPlan",
    "ChargeShare",
    "NoticeCode",
    "PlanNotice",
    "RateTotal",
    "plan_booking",
]


def plan_booking(
    order: CanonicalOrder,
    booking: BookingOptions,
    seller_country: str = "NL",
    *,
    destination_taxation: bool | None = None,
    language: Language = Language.NL,
) -> BookingPlan:
    """Plan the booking of an order; raises BookingRefused when it must not be booked.

    booking: the connection's booking options (vat_accounts, charge_vat, shipping_account,
    oss_vat).
    destination_taxation: whether EU consumers pay destination VAT (OSS). None means:
    booking.oss_vat decides, and without it the merchant does OSS exactly when
    vat_accounts has OSS entries (see README).
    language: of the line descriptions, the VAT note and nothing else (notices carry
    both languages).
    """
    with localcontext(DECIMAL_CONTEXT):
        return _plan_booking(order, booking, seller_country, destination_taxation, language)


def destination_taxation_of(booking: BookingOptions) -> bool:
    """OSS or not, from the booking options: the option when set, else inferred."""
    if booking.oss_vat is not None:
        return booking.oss_vat is OssVat.DESTINATION
    return any(m.treatment == VatTreatment.OSS for m in booking.vat_accounts)


def _plan_booking(
    order: CanonicalOrder,
    booking: BookingOptions,
    seller_country: str,
    destination_taxation: bool | None,
    language: Language,
) -> BookingPlan:
    if destination_taxation is None:
        destination_taxation = destination_taxation_of(booking)
    decision = decide_treatment(order, seller_country, destination_taxation=destination_taxation)
    zero_rated = decision.treatment in (VatTreatment.ICP, VatTreatment.EXPORT)
    as_charged = booking.charge_vat is ChargeVat.AS_CHARGED
    if not zero_rated:
        check_plausible_rates(order, as_charged=as_charged)

    target = round_half_up(to_cents_exact(exact(order.totals.total_incl_vat)))
    booked: Booked | None = None
    if not order.prices_include_vat:
        alloc = allocate(order, "excl", zero_rated=zero_rated, as_charged=as_charged)
        booked = book_from_excl(alloc, target)
    if booked is None:
        # Incl-VAT prices, or excl-VAT amounts whose VAT or total the shop's figures do
        # not support: the amounts the customer paid are then authoritative.
        alloc = allocate(order, "incl", zero_rated=zero_rated, as_charged=as_charged)
        booked = book_from_incl(alloc, target, order)

    cells = [cell for cell in booked.cells if cell.excl or cell.vat]
    if not cells:
        raise BookingRefused(RefusalCode.EMPTY_ORDER, {"order_number": order.order_number})
    _check_stated_vat(order)  # after the total: a wrong total is the first thing to fix
    rates = sorted({cell.rate for cell in cells}, reverse=True)
    sources = rate_sources(alloc)
    if decision.treatment is not VatTreatment.OSS and not zero_rated:
        check_domestic_rates(order, decision, rates, sources)
    accounts = {
        rate: account_for(order, booking, decision, rate, sources.get(rate)) for rate in rates
    }
    plan = _assemble(order, decision, booked, cells, accounts, booking, alloc.names, language)
    return replace(
        plan,
        # What the shop's own VAT total says beyond what is booked per rate: shown by the
        # ledger's check, never booked.
        vat_difference=order.totals.total_vat - plan.total_vat,
        notices=[
            *charge_notices(order.order_number, alloc, booked.basis),
            *default_rate_notices(order, booked.basis),
        ],
    )


def _check_stated_vat(order: CanonicalOrder) -> None:
    """The stated total VAT against the VAT the order's parts carry (what the contract
    checks; this catches orders that skipped validation)."""
    parts = sum((line.total_incl_vat - line.total_excl_vat for line in order.lines), Decimal(0))
    parts -= sum((d.amount_incl_vat - d.amount_excl_vat for d in order.discounts), Decimal(0))
    parts += sum((c.amount_incl_vat - c.amount_excl_vat for c in order.charges), Decimal(0))
    count = len(order.lines) + len(order.discounts) + len(order.charges)
    if abs(order.totals.total_vat - parts) > vat_tolerance(count):
        raise BookingRefused(
            RefusalCode.ORDER_VAT_MISMATCH,
            {
                "order_number": order.order_number,
                "stated": order.totals.total_vat,
                "computed": parts,
            },
        )


_KIND_LABELS: dict[BookingLineKind, tuple[str, str]] = {
    BookingLineKind.GOODS: ("Artikelen", "Goods"),
    BookingLineKind.DISCOUNT: ("Korting", "Discount"),
    BookingLineKind.SHIPPING: ("Verzendkosten", "Shipping"),
    BookingLineKind.PAYMENT_COSTS: ("Betaalkosten", "Payment costs"),
}
# Ledgers cut descriptions (Octopus and SnelStart take well over this); the VAT part at
# the end is kept whole, the shop's names are shortened.
MAX_DESCRIPTION = 120


def _assemble(
    order: CanonicalOrder,
    decision: TreatmentDecision,
    booked: Booked,
    cells: list[Cell],
    accounts: dict[Decimal, VatAccountMapping],
    booking: BookingOptions,
    names: dict[Key, list[str]],
    language: Language,
) -> BookingPlan:
    cells = sorted(cells, key=lambda c: (KIND_ORDER.index(c.kind), -c.rate))
    lines = [
        BookingLine(
            kind=cell.kind,
            description=_describe(cell, decision, names.get(cell.key, []), language),
            vat_rate=cell.rate,
            ledger_account=line_account(cell.kind, accounts[cell.rate], booking),
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
            rounding_difference=cents_to_decimal(booked.rate_differences.get(rate, 0)),
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


def _describe(cell: Cell, decision: TreatmentDecision, names: list[str], language: Language) -> str:
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
    if len(text) > MAX_DESCRIPTION:
        text = f"{text[: MAX_DESCRIPTION - len(vat) - 2]}… {vat}"
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

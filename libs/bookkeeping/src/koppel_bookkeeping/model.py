"""The booking plan: what a ledger service books for one order (frozen value objects)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from koppel_contracts import Language, VatTreatment


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


class NoticeCode(StrEnum):
    """Why a plan carries a notice. Codes are stable API; texts may be improved freely."""

    # A charge at one rate on an order whose goods have several rates (§6: split it).
    CHARGE_RATE_ON_MIXED_GOODS = "charge_rate_on_mixed_goods"
    # A charge at a rate none of the goods has (§6: it takes the goods' rate).
    CHARGE_RATE_NOT_ON_GOODS = "charge_rate_not_on_goods"
    # Products the shop gave no VAT for (Bol.com) and the connection's tables do not know:
    # booked at the connection's default rate; the merchant may add them to the table.
    DEFAULT_VAT_RATE = "default_vat_rate"


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
    """All lines of one rate together: the figure a ledger's VAT summary carries.

    rounding_difference: the part of the plan's rounding_difference booked on this rate's
    revenue (the stated total minus the sum of the parts; never booked as VAT).
    """

    vat_rate: Decimal
    ledger_account: str
    vat_code: str
    amount_excl_vat: Decimal
    vat_amount: Decimal
    amount_incl_vat: Decimal
    rounding_difference: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class ChargeShare:
    """One rate's share of a charge as vat-nl-eu.md §6 would split it (for comparison)."""

    vat_rate: Decimal
    amount: Decimal  # whole cents, on the plan's amount basis
    vat_amount: Decimal  # the VAT this share contains at its rate


@dataclass(frozen=True)
class PlanNotice:
    """Something the merchant should know about a booked plan; nothing was refused.

    For the charge notices: the shop charged `vat_rate` on a charge (`kind`) where §6
    would have it follow the goods (`goods_rates`, split as `resplit`). The plan booked
    it as charged. Amounts are the shop's own, as on the customer's invoice.
    """

    code: NoticeCode
    kind: BookingLineKind
    description: str
    vat_rate: Decimal
    goods_rates: list[Decimal]
    amount_excl_vat: Decimal
    vat_amount: Decimal
    amount_incl_vat: Decimal
    resplit: list[ChargeShare]
    amount_basis: AmountBasis
    text_nl: str
    text_en: str

    def text(self, language: Language = Language.NL) -> str:
        return self.text_nl if language is Language.NL else self.text_en


@dataclass(frozen=True)
class BookingPlan:
    """What to book for one order. total_incl_vat is the order total to the cent.

    rounding_difference: the order's stated total minus the total recomputed from the
    shop's authoritative amounts; booked on revenue (see RateTotal), never as VAT.
    vat_difference: the order's stated total VAT minus total_vat (what the shop's own
    VAT total says beyond what its amounts contain per rate); booked nowhere, shown by
    the ledger's check.
    vat_note: the legal mention for the invoice (ICP, export, OSS), None for domestic.
    notices: what the merchant should know (e.g. the shop's VAT on shipping contradicts
    vat-nl-eu.md §6); ledger services put them on the booking and in the check.
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
    vat_difference: Decimal = Decimal("0.00")
    notices: list[PlanNotice] = field(default_factory=list)

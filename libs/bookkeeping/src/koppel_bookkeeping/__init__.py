"""Koppel's shop- and ledger-neutral invoicing rules.

Pure functions over the canonical order: which VAT regime applies (domestic, OSS,
ICP, export), how goods, order discounts, shipping and payment costs are split
over VAT rates, and cent-exact amounts that add up to the order total. No I/O.
"""

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
from .plan import destination_taxation_of, plan_booking
from .refusals import BookingRefused, RefusalCode, refusal_failure, refusal_text
from .treatment import TreatmentDecision, decide_treatment
from .vat_codes import check_vat_codes

__all__ = [
    "AmountBasis",
    "BookingLine",
    "BookingLineKind",
    "BookingPlan",
    "BookingRefused",
    "ChargeShare",
    "NoticeCode",
    "PlanNotice",
    "RateTotal",
    "RefusalCode",
    "TreatmentDecision",
    "check_vat_codes",
    "decide_treatment",
    "destination_taxation_of",
    "plan_booking",
    "refusal_failure",
    "refusal_text",
]

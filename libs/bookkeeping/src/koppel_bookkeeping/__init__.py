"""Koppel's shop- and ledger-neutral invoicing rules.

Pure functions over the canonical order: which VAT regime applies (domestic, OSS,
ICP, export), how goods, order discounts, shipping and payment costs are split
over VAT rates, and cent-exact amounts that add up to the order total. No I/O.
"""

from .plan import AmountBasis, BookingLine, BookingLineKind, BookingPlan, RateTotal, plan_booking
from .refusals import BookingRefused, RefusalCode, refusal_failure, refusal_text
from .treatment import TreatmentDecision, decide_treatment

__all__ = [
    "AmountBasis",
    "BookingLine",
    "BookingLineKind",
    "BookingPlan",
    "BookingRefused",
    "RateTotal",
    "RefusalCode",
    "TreatmentDecision",
    "decide_treatment",
    "plan_booking",
    "refusal_failure",
    "refusal_text",
]

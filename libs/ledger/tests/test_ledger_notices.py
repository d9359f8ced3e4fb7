"""A plan's notices are recorded (and published with the booking) as text in the merchant's
language, not as the notice object's method."""

from __future__ import annotations

from decimal import Decimal

import pytest
from koppel_bookkeeping import plan_booking
from koppel_contracts import BookingOptions, Language, VatAccountMapping, VatTreatment
from koppel_ledger.recorded_plan import RecordedPlan
from koppel_testkit.factories import charge, line, make_order

MAPPING = BookingOptions(
    vat_accounts=[
        VatAccountMapping(
            vat_rate=Decimal(rate), treatment=VatTreatment.DOMESTIC, ledger_account=a, vat_code=c
        )
        for rate, a, c in (("21", "8000", "VH"), ("9", "8010", "VL"))
    ]
)


@pytest.mark.parametrize(
    ("language", "opening"),
    [(Language.NL, "Bestelling WEB-1001: de webshop rekende 21% btw"), (Language.EN, "Order")],
)
def test_shipping_at_one_rate_on_mixed_goods_is_recorded_in_the_merchants_words(
    language: Language, opening: str
) -> None:
    order = make_order(
        lines=[line("Regenjas", "1", "49.90", "21"), line("Koffiebonen", "1", "16.65", "9")],
        shipping=charge("PostNL", "4.95", "21"),
    )
    plan = plan_booking(order, MAPPING, language=language)
    [(code, text)] = RecordedPlan.of(plan, language).notice_texts()
    assert code == "charge_rate_on_mixed_goods"
    assert text.startswith(opening), text
    assert "bound method" not in text
    # Through a stored record and back, as the credit note and the outbox read it.
    stored = RecordedPlan.of(plan, language)
    assert RecordedPlan.from_json(stored.to_json()).notice_texts() == ((code, text),)

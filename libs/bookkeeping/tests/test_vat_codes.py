"""check_vat_codes: the ledger's VAT codes must be the percentage the plan books."""

from __future__ import annotations

from decimal import Decimal

import pytest
from koppel_bookkeeping import BookingRefused, RefusalCode, check_vat_codes, plan_booking
from koppel_bookkeeping.refusals import refusal_text
from koppel_contracts import Language
from koppel_testkit.factories import charge, make_order

D = Decimal
LEDGER_CODES = {"VH": D("21.00"), "VL": D(9), "V0": D(0), "VERL": None}


def plan(mapping):
    return plan_booking(make_order(shipping=charge("PostNL", "4.95")), mapping)


def refused(plan_, percentages) -> BookingRefused:
    with pytest.raises(BookingRefused) as caught:
        check_vat_codes(plan_, percentages, ledger="Octopus")
    return caught.value


def test_codes_with_the_plans_percentages_pass(mapping):
    check_vat_codes(plan(mapping), LEDGER_CODES, ledger="Octopus")  # 21.00 is 21


def test_code_without_a_percentage_in_the_ledger_is_not_compared(mapping):
    check_vat_codes(plan(mapping), {**LEDGER_CODES, "VL": None}, ledger="Octopus")


def test_reduced_rate_mapped_to_a_code_that_is_six_percent_is_refused(mapping):
    error = refused(plan(mapping), {**LEDGER_CODES, "VL": D(6)})
    assert error.reason_code == RefusalCode.VAT_CODE_RATE_MISMATCH
    assert error.params == {
        "order_number": "WEB-1001",
        "vat_code": "VL",
        "rate": D(9),
        "ledger": "Octopus",
        "ledger_rate": D(6),
    }
    (nl_reason, nl_hint), (en_reason, en_hint) = (
        refusal_text(error),
        refusal_text(error, Language.EN),
    )
    assert nl_reason == (
        "Btw-code VL is in Octopus 6%, maar Koppel boekt er 9% btw mee (bestelling WEB-1001)."
    )
    assert nl_hint == (
        "Kies in de instellingen van de koppeling voor 9% btw een btw-code die in Octopus 9% is"
        " (of zet btw-code VL in Octopus op 9%) en boek de bestelling opnieuw."
    )
    assert en_reason == (
        "VAT code VL is 6% in Octopus, but Koppel books 9% VAT with it (order WEB-1001)."
    )
    assert "choose a VAT code for 9% VAT that is 9% in Octopus" in en_hint


def test_a_cent_of_a_percent_off_is_a_mismatch(mapping):
    error = refused(plan(mapping), {**LEDGER_CODES, "VH": D("20.99")})
    assert (error.params["vat_code"], error.params["ledger_rate"]) == ("VH", D("20.99"))


def test_code_the_ledger_does_not_know_is_refused_separately(mapping):
    error = refused(plan(mapping), {"VH": D(21)})
    assert error.reason_code == RefusalCode.UNKNOWN_VAT_CODE
    assert (error.params["vat_code"], error.params["rate"]) == ("VL", D(9))
    assert refusal_text(error)[0] == (
        "Btw-code VL bestaat niet in Octopus; Koppel boekt er 9% btw mee (bestelling WEB-1001)."
    )
    assert "that exists in Octopus" in refusal_text(error, Language.EN)[1]


def test_the_first_problem_in_plan_order_is_reported(mapping):
    # Both codes are wrong; the 21% goods line comes first.
    error = refused(plan(mapping), {"VH": D(19), "VL": D(6)})
    assert (error.params["vat_code"], error.params["ledger_rate"]) == ("VH", D(19))

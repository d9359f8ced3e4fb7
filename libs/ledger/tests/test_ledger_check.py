"""The read-back check: total, VAT per rate and debtor, in the merchant's language."""

from __future__ import annotations

from decimal import Decimal

import pytest
from koppel_contracts import CheckOutcome, Language
from koppel_ledger import Debtor, LedgerDoc, Op, ReadBack, RecordedLine, RecordedPlan
from koppel_ledger.check import compare

D = Decimal
TOLERANCE = D("0.05")


def plan() -> RecordedPlan:
    lines = (
        RecordedLine(
            "goods", "Artikelen", D(21), "8000", "Hoog", D("45.35"), D("9.52"), D("54.87")
        ),
        RecordedLine("goods", "Boeken", D(9), "8010", "Laag", D("15.26"), D("1.37"), D("16.63")),
    )
    return RecordedPlan(lines, D("60.61"), D("10.89"), D("71.50"))


def doc(op: Op = Op.INVOICE) -> LedgerDoc:
    return LedgerDoc(op, 1, "2026001", "WEB-1", Debtor("1004"), plan())


def found(total: str = "71.50", vat: dict | None = None, debtor: str = "1004", **kw) -> ReadBack:
    per_rate = vat if vat is not None else {D(21): D("9.52"), D(9): D("1.37")}
    return ReadBack("2026001", "WEB-1", kw.get("credit", False), D(total), per_rate, debtor)


def check(readback: ReadBack | None, language: Language = Language.NL, op: Op = Op.INVOICE):
    return compare(doc(op), readback, tolerance=TOLERANCE, language=language, ledger="SnelStart")


def test_the_same_total_vat_and_debtor_match_without_details() -> None:
    result = check(found())
    assert result.outcome == CheckOutcome.MATCHED and result.details == []
    assert result.difference == 0 and result.booked_vat == result.expected_vat


def test_a_total_beyond_the_tolerance_is_a_mismatch_in_dutch_with_dutch_amounts() -> None:
    result = check(found("72.50", {D(21): D("10.52"), D(9): D("1.37")}))
    assert result.outcome == CheckOutcome.MISMATCH and result.difference == D("1.00")
    assert result.details == [
        "het geboekte totaal is € 1,00 hoger dan de bestelling (marge € 0,05)",
        "btw 21%: SnelStart € 10,52, bestelling € 9,52",
    ]


def test_the_same_mismatch_in_english_has_english_words_and_amounts() -> None:
    result = check(found("70.50", {D(21): D("8.52"), D(9): D("1.37")}), Language.EN)
    assert result.details == [
        "the booked total is €1.00 lower than the order (tolerance €0.05)",
        "VAT 21%: SnelStart €8.52, order €9.52",
    ]


def test_a_difference_within_the_tolerance_is_told_but_matches() -> None:
    result = check(found("71.47", {D(21): D("9.52"), D(9): D("1.34")}))
    assert result.outcome == CheckOutcome.MATCHED
    assert result.details[0] == (
        "het geboekte totaal is € 0,03 lager dan de bestelling, binnen de marge van € 0,05"
    )


@pytest.mark.parametrize(("delta", "outcome"), [("0.05", "matched"), ("0.06", "mismatch")])
def test_the_tolerance_is_the_boundary(delta: str, outcome: str) -> None:
    total = str(D("71.50") + D(delta))
    vat = {D(21): D("9.52") + D(delta), D(9): D("1.37")}
    assert check(found(total, vat)).outcome == outcome


def test_vat_per_rate_that_differs_is_reported_even_when_the_total_agrees() -> None:
    # The ledger booked 10.89 VAT as 9.30 / 1.48 (shipping re-split): same total.
    result = check(found("71.50", {D(21): D("9.30"), D(9): D("1.59")}))
    assert result.outcome == CheckOutcome.MISMATCH, "0.22 VAT at 21% is over the tolerance"
    assert result.details == [
        "btw 21%: SnelStart € 9,30, bestelling € 9,52",
        "btw 9%: SnelStart € 1,59, bestelling € 1,37",
    ]


def test_a_ledger_that_does_not_tell_vat_apart_is_checked_on_its_total() -> None:
    result = check(ReadBack("2026001", "WEB-1", False, D("71.50"), None, "1004"))
    assert result.outcome == CheckOutcome.MATCHED and result.booked_vat is None


def test_another_debtor_is_a_mismatch_named_the_same_way_on_both_sides() -> None:
    result = check(found(debtor="1002"))
    assert result.outcome == CheckOutcome.MISMATCH
    assert (result.expected_customer, result.booked_customer) == ("relatie 1004", "relatie 1002")
    assert result.details == ["de boeking staat op relatie 1002 in plaats van relatie 1004"]
    english = check(found(debtor="1002"), Language.EN)
    assert english.details == ["the booking is on relation 1002 instead of relation 1004"]


def test_a_document_missing_on_read_back_is_a_mismatch() -> None:
    result = check(None, Language.EN)
    assert result.outcome == CheckOutcome.MISMATCH and result.booked_total == 0
    assert result.details == ["the document was not found in SnelStart when read back"]


def test_a_credit_note_is_expected_negative() -> None:
    credit = ReadBack(
        "2026001", "WEB-1", True, D("-71.50"), {D(21): D("-9.52"), D(9): D("-1.37")}, "1004"
    )
    assert check(credit, op=Op.CREDIT).outcome == CheckOutcome.MATCHED

"""The connection test's comparison of the VAT mapping with what the ledger reports."""

from __future__ import annotations

from decimal import Decimal

from koppel_contracts import BookingOptions, Choice, Language
from koppel_ledger import LedgerDescription, mapping_problems


def booking(*rows: tuple[str, str, str, str]) -> BookingOptions:
    return BookingOptions.model_validate(
        {
            "vat_accounts": [
                {"vat_rate": r, "ledger_account": a, "vat_code": c, "treatment": t}
                for r, a, c, t in rows
            ]
        }
    )


LEDGER = LedgerDescription(
    accounts=[Choice(code="8000", name="Omzet hoog"), Choice(code="8001", name="Omzet laag")],
    vat_codes=[
        Choice(code="1", name="21%", percentage=Decimal("21")),
        Choice(code="2", name="9%", percentage=Decimal("9")),
        Choice(code="6", name="6% (oud)", percentage=Decimal("6")),
        Choice(code="V", name="verlegd", percentage=None),
    ],
)


def codes(problems) -> list[str]:
    return [p.code for p in problems]


def test_a_mapping_that_matches_the_ledger_has_no_problems() -> None:
    ok = booking(("21", "8000", "1", "domestic"), ("9", "8001", "2", "domestic"))
    assert mapping_problems(ok, LEDGER, ledger="Octopus", language=Language.NL) == []


def test_each_wrong_row_is_named_with_what_to_do() -> None:
    wrong = booking(
        ("21", "8999", "1", "domestic"),  # account missing
        ("9", "8001", "6", "domestic"),  # the pre-2019 code of 6 %
        ("0", "8000", "X", "icp"),  # code missing
    )
    problems = mapping_problems(wrong, LEDGER, ledger="Octopus", language=Language.NL)
    assert codes(problems) == ["account_missing", "vat_code_rate_mismatch", "vat_code_missing"]
    assert "8999" in problems[0].reason and "21" in problems[0].reason
    assert "9%" in problems[1].reason and "6%" in problems[1].reason
    assert all(p.suggestion and p.suggestion != p.reason for p in problems)
    english = mapping_problems(wrong, LEDGER, ledger="Octopus", language=Language.EN)
    assert english[1].reason.startswith("The 9% VAT rate")


def test_codes_without_a_percentage_and_oss_rows_are_not_compared() -> None:
    rows = booking(("21", "8000", "V", "domestic"), ("19", "8000", "1", "oss"))
    data = rows.model_dump(mode="json")
    data["vat_accounts"][1]["country_code"] = "DE"
    oss = BookingOptions.model_validate(data)
    assert mapping_problems(oss, LEDGER, ledger="SnelStart", language=Language.NL) == []


def test_a_ledger_without_accounts_to_list_is_not_held_against_the_mapping() -> None:
    file_ledger = LedgerDescription(vat_codes=LEDGER.vat_codes)
    mapped = booking(("21", "anything", "1", "domestic"))
    assert mapping_problems(mapped, file_ledger, ledger="Asperion", language=Language.NL) == []

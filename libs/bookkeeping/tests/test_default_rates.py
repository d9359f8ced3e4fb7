"""Lines booked at the connection's default VAT rate (Bol.com products not in the tables)
are booked, and the plan names them so the merchant can add them to the table."""

from __future__ import annotations

from decimal import Decimal

from koppel_bookkeeping import NoticeCode, plan_booking
from koppel_contracts import BookingOptions, Language, VatRateSource
from koppel_testkit import line, make_order

MAPPING = BookingOptions.model_validate(
    {
        "vat_accounts": [
            {"vat_rate": "21", "ledger_account": "8000", "vat_code": "1"},
            {"vat_rate": "9", "ledger_account": "8001", "vat_code": "2"},
        ]
    }
)


def sourced(description: str, price: str, rate: str, source: VatRateSource, ean: str):
    return line(description, "1", price, rate).model_copy(
        update={"vat_rate_source": source, "ean": ean}
    )


def test_lines_at_the_default_rate_are_booked_and_named_with_their_ean() -> None:
    order = make_order(
        lines=[
            sourced("Kookboek", "24.99", "9", VatRateSource.TABLE, "9789046829998"),
            sourced("Oplader", "19.95", "21", VatRateSource.DEFAULT, "8718526040111"),
            sourced("Kabel", "9.95", "21", VatRateSource.DEFAULT, "8718526040222"),
        ]
    )
    plan = plan_booking(order, MAPPING)
    assert plan.total_incl_vat == Decimal("54.89"), "booked all the same"
    [notice] = [n for n in plan.notices if n.code is NoticeCode.DEFAULT_VAT_RATE]
    assert notice.vat_rate == Decimal("21") and notice.amount_incl_vat == Decimal("29.90")
    for language in Language:
        text = notice.text(language)
        assert "8718526040111" in text and "8718526040222" in text
        assert "9789046829998" not in text, "a product the table knows is not named"
    assert "standaardtarief 21%" in notice.text_nl and "€ 29,90" in notice.text_nl
    assert "default rate 21%" in notice.text_en


def test_no_notice_when_every_rate_came_from_the_shop_or_the_table() -> None:
    order = make_order(
        lines=[
            sourced("Kookboek", "24.99", "9", VatRateSource.TABLE, "9789046829998"),
            line("Mok", "1", "12.10", "21"),
        ]
    )
    codes = {n.code for n in plan_booking(order, MAPPING).notices}
    assert NoticeCode.DEFAULT_VAT_RATE not in codes

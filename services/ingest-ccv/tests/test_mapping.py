"""CCV order + rows -> canonical order, on payloads shaped like CCV's real ones.

Expected amounts are worked out by hand in the comments, not by the code under test.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from koppel_contracts import OrderStatus
from koppel_ingest import booking_fingerprint
from koppel_ingest_ccv.amounts import MappingError, allocate
from koppel_ingest_ccv.client import parse_json
from koppel_ingest_ccv.mapping import map_order
from koppel_ingest_ccv.orders import Trigger, resource_fingerprint
from pydantic import ValidationError

FIXTURES = Path(__file__).parent / "fixtures"
D = Decimal


def payload(name: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """An order and its rows, parsed the way the client parses CCV's JSON."""
    order = parse_json((FIXTURES / f"order_{name}.json").read_bytes())
    rows = parse_json((FIXTURES / f"rows_{name}.json").read_bytes())
    return order, rows


def test_json_numbers_are_decimals_never_floats() -> None:
    order, rows = payload("real_sample_nov2022")
    assert order["total_tax"] == D("102.4") and isinstance(order["total_tax"], Decimal)
    assert isinstance(rows[0]["price"], int)

    def floats(value: Any) -> int:
        if isinstance(value, dict):
            return sum(floats(v) for v in value.values())
        if isinstance(value, list):
            return sum(floats(v) for v in value)
        return isinstance(value, float)

    assert floats(order) == 0 and floats(rows) == 0


def test_b2c_order_with_mixed_vat_a_coupon_and_shipping() -> None:
    order = map_order(*payload("b2c_mixed_vat_coupon"))

    assert order.source_order_id == "412987311" and order.order_number == "DB-10482"
    assert (order.status, order.source_status, order.paid) == (OrderStatus.PROCESSING, "2", True)
    assert order.prices_include_vat is True and order.currency == "EUR"
    assert order.placed_at.isoformat() == "2026-11-18T20:41:07+00:00"
    assert order.payment_method == "PspIdeal"

    beans, mug, cups = order.lines
    # 2 x 24.95 incl. 9%: 49.90 incl, 49.90 / 1.09 = 45.78 excl, 22.89 a piece.
    assert (beans.quantity, beans.vat_rate, beans.sku, beans.ean) == (
        D(2),
        D(9),
        "KB-ESP-1000",
        "8712345678906",
    )
    assert (beans.unit_price_incl_vat, beans.unit_price_excl_vat) == (D("24.95"), D("22.89"))
    assert (beans.total_incl_vat, beans.total_excl_vat) == (D("49.90"), D("45.78"))
    assert beans.discount_incl_vat == 0
    # 12.10 with a row discount of 1.00 at 21%: 11.10 incl, 9.17 excl; gross 10.00 excl.
    assert (mug.unit_price_incl_vat, mug.unit_price_excl_vat) == (D("12.10"), D("10.00"))
    assert (mug.discount_incl_vat, mug.discount_excl_vat) == (D("1.00"), D("0.83"))
    assert (mug.total_incl_vat, mug.total_excl_vat) == (D("11.10"), D("9.17"))
    # 4 x 3.95 = 15.80 incl, 13.06 excl: 3.265 a piece excl. (kept to 4 places, not cents).
    assert cups.description == "Espressokopje (Kleur: zwart)"
    assert (cups.unit_price_excl_vat, cups.total_excl_vat) == (D("3.265"), D("13.06"))

    # Coupon ZOMER10 = 10% of 76.80 = 7.68, spread over the goods per rate:
    # 21%: 7.68 x 26.90 / 76.80 = 2.69 (2.22 excl); 9%: 7.68 x 49.90 / 76.80 = 4.99 (4.58 excl).
    assert [
        (d.description, d.vat_rate, d.amount_incl_vat, d.amount_excl_vat) for d in order.discounts
    ] == [
        ("Kortingscode ZOMER10 (21% btw)", D(21), D("2.69"), D("2.22")),
        ("Kortingscode ZOMER10 (9% btw)", D(9), D("4.99"), D("4.58")),
    ]
    assert order.shipping is not None
    assert (
        order.shipping.vat_rate,
        order.shipping.amount_incl_vat,
        order.shipping.amount_excl_vat,
    ) == (
        D(21),
        D("4.95"),
        D("4.09"),
    )
    assert order.payment_costs is None, "iDEAL without a surcharge"
    # CCV's totals: 76.80 - 7.68 + 4.95 = 74.07, of which 8.77 VAT.
    assert (order.totals.total_incl_vat, order.totals.total_vat, order.totals.total_excl_vat) == (
        D("74.07"),
        D("8.77"),
        D("65.30"),
    )

    assert order.customer.email == "anna.devries@example.nl"
    assert (order.customer.first_name, order.customer.last_name) == ("Anna", "de Vries")
    assert order.customer.company_name is None and order.customer.vat_number is None
    billing = order.billing_address
    assert (billing.street, billing.house_number, billing.postal_code, billing.country_code) == (
        "Lange Nieuwstraat",
        "12",
        "3512 PH",
        "NL",
    )
    # Delivered to Belgium; CCV left country_code null but named the country.
    assert order.shipping_address is not None
    assert (order.shipping_address.city, order.shipping_address.country_code) == ("Antwerpen", "BE")
    assert order.shipping_address.house_number_suffix == "bus 3"


def test_b2b_order_with_prices_excluding_vat_and_payment_costs() -> None:
    order = map_order(*payload("b2b_ex_vat"))

    assert order.prices_include_vat is False
    assert order.customer.company_name == "Horeca Groothandel Van Dijk B.V."
    assert order.billing_address.company_name == "Horeca Groothandel Van Dijk B.V."
    assert order.customer.vat_number == "NL812345678B01", "as typed: 'NL 8123.45.678.B01'"
    assert (order.billing_address.house_number, order.billing_address.house_number_suffix) == (
        "7",
        "a",
    )
    assert order.shipping_address is None, "CCV sends a blank delivery address"
    assert order.status == OrderStatus.SHIPPED and order.payment_method == "OnAccount"

    beans, frother = order.lines
    # 4 x 62.50 excl. with 2.50 off each at 9%: 240.00 excl, 261.60 incl; gross 272.50 incl.
    assert (beans.unit_price_excl_vat, beans.unit_price_incl_vat) == (D("62.50"), D("68.125"))
    assert (beans.discount_excl_vat, beans.discount_incl_vat) == (D("10.00"), D("10.90"))
    assert (beans.total_excl_vat, beans.total_incl_vat) == (D("240.00"), D("261.60"))
    assert (frother.total_excl_vat, frother.total_incl_vat) == (D("89.00"), D("107.69"))

    # Payment costs 1.50 follow the goods: 1.09 at 9% (1.19 incl) + 0.41 at 21% (0.50 incl).
    costs = order.payment_costs
    assert costs is not None and costs.description == "Betaalkosten Op rekening"
    assert (costs.vat_rate, costs.amount_excl_vat, costs.amount_incl_vat) == (
        None,
        D("1.50"),
        D("1.69"),
    )
    assert order.shipping is not None
    assert (order.shipping.amount_excl_vat, order.shipping.amount_incl_vat) == (
        D("6.95"),
        D("8.41"),
    )
    # 329.00 + 1.50 + 6.95 excl = 337.45; VAT 21.70 + 18.78 + 1.46 = 41.94; total 379.39.
    assert (order.totals.total_excl_vat, order.totals.total_vat, order.totals.total_incl_vat) == (
        D("337.45"),
        D("41.94"),
        D("379.39"),
    )


def test_the_real_november_2022_sample() -> None:
    order = map_order(*payload("real_sample_nov2022"))
    (lamp,) = order.lines
    # count 1, price 595, discount 10, total 585 at 21% (incl.).
    assert (lamp.unit_price_incl_vat, lamp.discount_incl_vat, lamp.total_incl_vat) == (
        D("595.00"),
        D("10.00"),
        D("585.00"),
    )
    assert (lamp.total_excl_vat, lamp.discount_excl_vat) == (D("483.47"), D("8.27"))
    # total_price 590 = 585 + shipping 5; total_tax 102.4 = 590 x 21 / 121.
    assert order.shipping is not None and order.shipping.amount_excl_vat == D("4.13")
    assert (order.totals.total_incl_vat, order.totals.total_vat, order.totals.total_excl_vat) == (
        D("590.00"),
        D("102.40"),
        D("487.60"),
    )
    assert order.discounts == [] and order.payment_costs is None
    assert order.customer.phone == "0612345678", "mobile when there is no telephone"
    assert order.shipping_address is None


def test_totals_that_do_not_add_up_are_refused() -> None:
    order, rows = payload("real_sample_nov2022")
    order["total_price"] = D("580")  # CCV's total no longer matches rows + shipping
    with pytest.raises(ValidationError, match="total_incl_vat"):
        map_order(order, rows)
    order, rows = payload("b2c_mixed_vat_coupon")
    order["total_tax"] = D("9.77")  # a VAT split we cannot reproduce is not booked either
    with pytest.raises(ValidationError, match="total_excl_vat"):
        map_order(order, rows)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda o, r: o["customer"]["billingaddress"].update(
                country_code=None, country="Atlantis"
            ),
            "country",
        ),
        (lambda o, r: r[0].update(tax=None), "tax is missing"),
        (lambda o, r: r[0].update(count=0), "count is 0"),
        (lambda o, r: r.clear(), "no rows"),
        (lambda o, r: o.update(status=99), "unknown status"),
        (lambda o, r: o.update(create_date="gisteren"), "create_date"),
        (lambda o, r: o.update(is_completed=False), "not completed"),
    ],
    ids=["country", "row-tax", "row-count", "no-rows", "status", "create-date", "basket"],
)
def test_unreadable_orders_raise_a_mapping_error(change: Any, message: str) -> None:
    order, rows = payload("b2c_mixed_vat_coupon")
    change(order, rows)
    with pytest.raises(MappingError, match=message):
        map_order(order, rows)


def test_negative_extra_costs_are_a_discount_and_positive_ones_a_line() -> None:
    order, rows = payload("real_sample_nov2022")
    order.update(extra_costs=D("-10"), extra_costs_description="Vaste klant", total_price=D("580"))
    order["total_tax"] = D("100.66")  # (575 + 5) x 21 / 121
    mapped = map_order(order, rows)
    assert [(d.description, d.amount_incl_vat) for d in mapped.discounts] == [
        ("Vaste klant", D(10))
    ]

    order.update(extra_costs=D("2.50"), extra_costs_description="Cadeauverpakking")
    order.update(total_price=D("592.50"), total_tax=D("102.83"))
    mapped = map_order(order, rows)
    assert mapped.lines[-1].description == "Cadeauverpakking"
    assert (mapped.lines[-1].total_incl_vat, mapped.lines[-1].vat_rate) == (D("2.50"), D(21))


def test_allocation_adds_up_to_the_cent() -> None:
    shares = allocate(D("10.00"), {D(21): D("1"), D(9): D("1"), D(0): D("1")})
    assert sum(shares.values()) == D("10.00")
    assert sorted(shares.values()) == [D("3.33"), D("3.33"), D("3.34")]


def test_triggers() -> None:
    order, _ = payload("b2c_mixed_vat_coupon")
    paid = Trigger.parse(["paid"])
    sent = Trigger.parse([" 5 ", "bogus"])
    assert paid.holds(order) and not sent.holds(order)
    assert sent.holds({**order, "status": 5, "paid": False})
    assert not paid.holds({**order, "status": 8}), "a cancelled order is never bookable"
    assert not paid.holds({**order, "is_completed": False})


def test_fingerprints_ignore_progress_but_see_changes() -> None:
    order, rows = payload("b2c_mixed_vat_coupon")
    first = map_order(order, rows)
    sent = map_order({**order, "status": 5}, rows)
    assert first != sent and booking_fingerprint(first) == booking_fingerprint(sent)
    other_rows = copy.deepcopy(rows)
    other_rows[0]["product_name"] = "Koffiebonen Lungo 1kg"
    assert booking_fingerprint(map_order(order, other_rows)) != booking_fingerprint(first)
    assert resource_fingerprint(order) == resource_fingerprint({**order, "status": 5})
    assert resource_fingerprint(order) != resource_fingerprint({**order, "total_shipping": D(0)})

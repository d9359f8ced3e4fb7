"""Orders, their lines, states, refunds and discounts add up like a real shop's
(prestashop.md §7, §8, §12, §13)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from .conftest import Shop, decoded, error_codes

D = Decimal


async def order_json(shop: Shop, order_id: int) -> dict[str, Any]:
    return dict((await shop.json(f"/api/orders/{order_id}"))["order"])


async def details(shop: Shop, order_id: int) -> list[dict[str, Any]]:
    data = await shop.json(
        "/api/order_details", display="full", **{"filter[id_order]": f"[{order_id}]"}
    )
    return [] if data == [] else list(data["order_details"])


def identity_holds(order: dict[str, Any]) -> bool:
    for suffix, products in (("incl", "total_products_wt"), ("excl", "total_products")):
        paid = (
            D(order[products])
            + D(order[f"total_shipping_tax_{suffix}"])
            + D(order[f"total_wrapping_tax_{suffix}"])
            - D(order[f"total_discounts_tax_{suffix}"])
        )
        if paid != D(order[f"total_paid_tax_{suffix}"]):
            return False
    return True


@pytest.mark.parametrize("order_id", [1, 2, 3, 4])
async def test_every_demo_order_adds_up_and_mirrors_its_details(shop: Shop, order_id: int) -> None:
    order = await order_json(shop, order_id)
    assert identity_holds(order)
    assert order["total_paid"] == order["total_paid_tax_incl"]
    lines = await details(shop, order_id)
    rows = order["associations"]["order_rows"]
    assert [r["id"] for r in rows] == [d["id"] for d in lines]
    for row, line in zip(rows, lines, strict=True):
        assert row["product_quantity"] == line["product_quantity"]
        assert row["unit_price_tax_incl"] == line["unit_price_tax_incl"]
        assert "total_price_tax_incl" not in row, "order_rows have no line totals"
    assert D(order["total_products"]) == sum(D(x["total_price_tax_excl"]) for x in lines)
    assert D(order["total_products_wt"]) == sum(D(x["total_price_tax_incl"]) for x in lines)


async def test_a_b2b_order_with_vouchers_wrapping_and_a_foreign_currency(shop: Shop) -> None:
    created = await shop.control.create_order(
        customer={"email": "inkoop@bakkerij.nl", "company": "Bakkerij Bol B.V."},
        invoice_address={"company": "Bakkerij Bol B.V.", "vat_number": "NL001234567B01"},
        rows=[
            {"name": "Broodmes", "price_tax_excl": "10.00", "quantity": 3, "tax_rate": "21"},
            {"name": "Roggebrood", "price_tax_incl": "5.45", "quantity": 2, "tax_rate": "9"},
            {"name": "Cadeaubon", "price_tax_excl": "4.00", "quantity": 1, "tax_rate": "0"},
        ],
        cart_rules=[{"name": "KORTING10", "percent": "10"}],
        shipping={"carrier": "PostNL", "price_tax_excl": "5.00"},
        wrapping={"price_tax_excl": "2.00", "message": "Gefeliciteerd"},
        currency={"iso_code": "GBP", "conversion_rate": "0.85"},
    )
    order = await order_json(shop, created["order"]["id"])
    expected = {
        "total_products": "44.000000",  # 30.00 + 10.00 + 4.00
        "total_products_wt": "51.200000",  # 36.30 + 10.90 + 4.00
        "total_discounts_tax_excl": "4.400000",
        "total_discounts_tax_incl": "5.120000",
        "total_shipping_tax_excl": "5.000000",
        "total_shipping_tax_incl": "6.050000",
        "carrier_tax_rate": "21.000",
        "total_wrapping_tax_excl": "2.000000",
        "total_wrapping_tax_incl": "2.420000",
        "total_paid_tax_excl": "46.600000",
        "total_paid_tax_incl": "54.550000",
        "conversion_rate": "0.850000",
        "gift": "1",
        "gift_message": "Gefeliciteerd",
    }
    assert {k: order[k] for k in expected} == expected
    currency = (await shop.json(f"/api/currencies/{order['id_currency']}"))["currency"]
    assert currency["iso_code"] == "GBP"
    address = (await shop.json(f"/api/addresses/{order['id_address_invoice']}"))["address"]
    assert (address["company"], address["vat_number"]) == ("Bakkerij Bol B.V.", "NL001234567B01")
    country = (await shop.json(f"/api/countries/{address['id_country']}"))["country"]
    assert country["iso_code"] == "NL"
    customer = (await shop.json(f"/api/customers/{order['id_customer']}"))["customer"]
    assert (customer["email"], customer["company"]) == ("inkoop@bakkerij.nl", "Bakkerij Bol B.V.")
    lines = await details(shop, order["id"])
    rates = []
    for line in lines:
        taxes = line.get("associations", {}).get("taxes", [])
        rates.append([(await shop.json(f"/api/taxes/{t['id']}"))["tax"]["rate"] for t in taxes])
    assert rates == [["21.000"], ["9.000"], []], "a 0 % line has no taxes association"
    rules = await shop.json(
        "/api/order_cart_rules", display="full", **{"filter[id_order]": f"[{order['id']}]"}
    )
    assert [(r["name"], r["value"], r["value_tax_excl"]) for r in rules["order_cart_rules"]] == [
        ("KORTING10", "5.120000", "4.400000")
    ]


@pytest.mark.parametrize(
    ("round_type", "products", "products_wt", "line_excl"),
    [
        (1, "3.360000", "4.050000", "3.360000"),  # 1.12 × 3 and 1.35 × 3
        (2, "3.350000", "4.050000", "3.350000"),  # round(3.345) and round(4.04745)
        (3, "3.350000", "4.050000", "3.345000"),  # the line unrounded, the total rounded
    ],
    ids=["per-item", "per-line", "on-total"],
)
async def test_the_rounding_type_decides_where_amounts_are_rounded(
    shop: Shop, round_type: int, products: str, products_wt: str, line_excl: str
) -> None:
    await shop.control.configure(round_type=round_type)
    created = await shop.control.create_order(
        rows=[{"name": "Theelepel", "price_tax_excl": "1.115", "quantity": 3, "tax_rate": "21"}]
    )
    order = await order_json(shop, created["order"]["id"])
    assert (order["round_type"], order["total_products"], order["total_products_wt"]) == (
        round_type,
        products,
        products_wt,
    )
    assert (await details(shop, order["id"]))[0]["total_price_tax_excl"] == line_excl


async def test_amount_vouchers_convert_with_the_average_rate_and_free_shipping_adds_shipping(
    shop: Shop,
) -> None:
    created = await shop.control.create_order(
        rows=[{"price_tax_excl": "100.00", "tax_rate": "21"}],
        cart_rules=[
            {"name": "TIENEURO", "amount": "12.10", "tax_included": True},
            {"name": "GRATISVERZENDING", "amount": "0", "free_shipping": True},
        ],
        shipping={"carrier": 2, "price_tax_excl": "5.00"},
    )
    order = await order_json(shop, created["order"]["id"])
    assert (order["total_discounts_tax_incl"], order["total_discounts_tax_excl"]) == (
        "18.150000",  # 12.10 + 6.05 shipping
        "15.000000",  # 10.00 + 5.00
    )
    # 121.00 + 6.05 − 18.15 and 100.00 + 5.00 − 15.00: only the goods minus the voucher are paid
    assert (order["total_paid_tax_incl"], order["total_paid_tax_excl"]) == (
        "108.900000",
        "90.000000",
    )


async def test_editing_an_order_keeps_its_id_and_moves_date_upd(shop: Shop) -> None:
    await shop.control.set_clock("2030-05-01 09:00:00")
    created = await shop.control.create_order(
        rows=[
            {"name": "Koffie", "price_tax_incl": "10.90", "quantity": 1, "tax_rate": "9"},
            {"name": "Mok", "price_tax_incl": "12.10", "quantity": 1, "tax_rate": "21"},
        ]
    )
    order_id = created["order"]["id"]
    coffee, mug = (d["id"] for d in created["order_details"])
    await shop.control.set_clock("2030-05-01 10:15:00")
    await shop.control.edit_order(order_id, quantities={coffee: 3, mug: 0})
    order = await order_json(shop, order_id)
    assert (order["reference"], order["date_add"], order["date_upd"]) == (
        created["order"]["reference"],
        "2030-05-01 09:00:00",
        "2030-05-01 10:15:00",
    )
    lines = await details(shop, order_id)
    assert [(d["id"], d["product_quantity"]) for d in lines] == [(coffee, 3)]
    assert order["total_products_wt"] == "32.700000" and identity_holds(order)
    await shop.control.edit_order(
        order_id,
        rows=[
            {"id": coffee, "quantity": 1},
            {"name": "Suiker", "price_tax_incl": "2.18", "tax_rate": "9"},
        ],
    )
    lines = await details(shop, order_id)
    assert [d["product_name"] for d in lines] == ["Koffie", "Suiker"]
    assert lines[0]["id"] == coffee, "an edited line keeps its order_detail id"


async def test_a_state_change_writes_a_history_and_its_side_effects(shop: Shop) -> None:
    await shop.control.set_clock("2030-06-01 12:00:00")
    created = await shop.control.create_order(state=10)
    order_id = created["order"]["id"]
    before = await order_json(shop, order_id)
    assert (before["valid"], before["invoice_number"], before["total_paid_real"]) == (
        "0",
        0,
        "0.000000",
    )
    await shop.control.set_clock("2030-06-02 08:30:00")
    await shop.control.set_state(order_id, 2)
    after = await order_json(shop, order_id)
    assert (after["current_state"], after["valid"], after["date_upd"]) == (
        2,
        "1",
        "2030-06-02 08:30:00",
    )
    assert after["invoice_number"] > 0 and after["invoice_date"] == "2030-06-02 08:30:00"
    assert after["total_paid_real"] == after["total_paid_tax_incl"]
    histories = await shop.json(
        "/api/order_histories", display="full", **{"filter[id_order]": f"[{order_id}]"}
    )
    assert [(h["id_order_state"], h["date_add"]) for h in histories["order_histories"]] == [
        (10, "2030-06-01 12:00:00"),
        (2, "2030-06-02 08:30:00"),
    ]
    payments = await shop.json(
        "/api/order_payments",
        display="full",
        **{"filter[order_reference]": f"[{after['reference']}]"},
    )
    assert [p["amount"] for p in payments["order_payments"]] == [after["total_paid_tax_incl"]]
    await shop.control.cancel_order(order_id)
    cancelled = await order_json(shop, order_id)
    assert (cancelled["current_state"], cancelled["valid"]) == (6, "0")


async def test_posting_an_order_history_changes_the_state(shop: Shop) -> None:
    key = await shop.control.create_key({"order_histories": ["GET", "POST"], "orders": ["GET"]})
    body = (
        '<prestashop xmlns:xlink="http://www.w3.org/1999/xlink"><order_history>'
        "<id_order>1</id_order><id_order_state>4</id_order_state>"
        "</order_history></prestashop>"
    )
    response = await shop.http.post("/api/order_histories", content=body, auth=(key, ""))
    assert response.status_code == 201
    history = etree.fromstring(response.content).find("order_history")
    assert history is not None and history.findtext("id_order_state") == "4"
    order = decoded(await shop.get("/api/orders/1", key=key, output_format="JSON"))["order"]
    assert order["current_state"] == 4
    with_id = body.replace("<id_order>", "<id>9</id><id_order>")
    refused = await shop.http.post("/api/order_histories", content=with_id, auth=(key, ""))
    assert refused.status_code == 400 and error_codes(refused) == [91]
    broken = await shop.http.post("/api/order_histories", content="<prestashop>", auth=(key, ""))
    assert broken.status_code == 500 and error_codes(broken) == [127]
    missing = body.replace("<id_order_state>4</id_order_state>", "")
    assert error_codes(
        await shop.http.post("/api/order_histories", content=missing, auth=(key, ""))
    ) == [41]


async def test_a_partial_refund_is_a_credit_slip_and_counts_refunded_quantities(shop: Shop) -> None:
    await shop.control.set_clock("2030-07-01 10:00:00")
    created = await shop.control.create_order(
        rows=[
            {"name": "Koffiebonen", "price_tax_incl": "24.95", "quantity": 2, "tax_rate": "9"},
            {"name": "Mok", "price_tax_incl": "12.10", "quantity": 1, "tax_rate": "21"},
        ]
    )
    order_id = created["order"]["id"]
    coffee = created["order_details"][0]["id"]
    before = await order_json(shop, order_id)
    await shop.control.set_clock("2030-07-03 16:00:00")
    slip = await shop.control.refund(order_id, [(coffee, 1)], partial=True)
    assert (slip["total_products_tax_excl"], slip["total_products_tax_incl"], slip["amount"]) == (
        "22.890000",
        "24.950000",
        "24.950000",
    )
    assert (slip["partial"], slip["date_add"]) == (1, "2030-07-03 16:00:00")
    assert slip["associations"]["order_slip_details"] == [
        {
            "id": slip["id"],
            "id_order_detail": coffee,
            "product_quantity": 1,
            "amount_tax_excl": "22.889908",
            "amount_tax_incl": "24.950000",
        }
    ]
    line = (await shop.json(f"/api/order_details/{coffee}"))["order_detail"]
    assert (line["product_quantity"], line["product_quantity_refunded"]) == (2, 1)
    assert (line["total_refunded_tax_excl"], line["total_refunded_tax_incl"]) == (
        "22.890000",
        "24.950000",
    )
    after = await order_json(shop, order_id)
    assert after["total_paid_tax_incl"] == before["total_paid_tax_incl"], (
        "a slip leaves the order totals"
    )
    assert after["date_upd"] == before["date_upd"]
    slips = await shop.json(
        "/api/order_slip",
        display="full",
        date="1",
        **{"filter[date_add]": ">[2030-07-02 00:00:00]"},
    )
    assert [s["id"] for s in slips["order_slips"]] == [slip["id"]]


async def test_a_full_refund_with_shipping_and_the_refunded_state(shop: Shop) -> None:
    created = await shop.control.create_order(
        rows=[{"price_tax_incl": "12.10", "quantity": 2, "tax_rate": "21"}],
        shipping={"carrier": 2, "price_tax_incl": "6.05"},
    )
    order_id = created["order"]["id"]
    slip = await shop.control.refund(order_id, all_lines=True, shipping=True, state=7)
    assert (slip["total_shipping_tax_incl"], slip["shipping_cost"], slip["amount"]) == (
        "6.050000",
        1,
        "30.250000",
    )
    order = await order_json(shop, order_id)
    assert (order["current_state"], order["valid"]) == (7, "0")
    with pytest.raises(RuntimeError, match="nothing left to refund"):
        await shop.control.refund(order_id, all_lines=True)


async def test_split_cart_orders_share_the_reference_and_one_payment(shop: Shop) -> None:
    first = await shop.control.create_order(
        state=10, rows=[{"price_tax_excl": "10", "tax_rate": "21"}]
    )
    second = await shop.control.create_order(
        state=10, sibling_of=first["order"]["id"], rows=[{"price_tax_excl": "20", "tax_rate": "21"}]
    )
    reference = first["order"]["reference"]
    assert second["order"]["reference"] == reference
    assert second["order"]["id_cart"] == first["order"]["id_cart"]
    await shop.control.set_state(first["order"]["id"], 2)
    payments = await shop.json(
        "/api/order_payments", display="full", **{"filter[order_reference]": f"[{reference}]"}
    )
    both = D(first["order"]["total_paid_tax_incl"]) + D(second["order"]["total_paid_tax_incl"])
    assert [D(p["amount"]) for p in payments["order_payments"]] == [both]
    same = await shop.json("/api/orders", **{"filter[reference]": f"[{reference}]"})
    assert len(same["orders"]) == 2


async def test_a_malformed_order_serves_lines_that_do_not_add_up(shop: Shop) -> None:
    line = (await details(shop, 1))[0]
    await shop.control.malform(
        1,
        order_details={line["id"]: {"total_price_tax_incl": "1.000000"}},
        order={"total_paid": "0.01"},
    )
    broken = (await shop.json(f"/api/order_details/{line['id']}"))["order_detail"]
    assert broken["total_price_tax_incl"] == "1.000000"
    order = await order_json(shop, 1)
    assert order["total_paid"] == "0.01" and order["total_paid"] != order["total_paid_tax_incl"]
    assert D(order["total_products_wt"]) != sum(
        D(d["total_price_tax_incl"]) for d in await details(shop, 1)
    )
    await shop.control.malform(1, clear=True)
    assert (await shop.json(f"/api/order_details/{line['id']}"))["order_detail"] == {
        **broken,
        "total_price_tax_incl": line["total_price_tax_incl"],
    }


async def test_order_states_flags_decide_what_is_paid(shop: Shop) -> None:
    states = (await shop.json("/api/order_states", display="[id,paid]"))["order_states"]
    assert [s["id"] for s in states if s["paid"] == "1"] == [2, 3, 4, 5, 9, 11]
    await shop.control.change_order_state(9, paid=False)
    await shop.control.add_order_state(
        id=14, name={"nl": "Betaald via Mollie", "en": "Paid (Mollie)"}, paid=True, logable=True
    )
    paid = (await shop.json("/api/order_states", display="[id,paid]", **{"filter[paid]": "[1]"}))[
        "order_states"
    ]
    assert [s["id"] for s in paid] == [2, 3, 4, 5, 11, 14]

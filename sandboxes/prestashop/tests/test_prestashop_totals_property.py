"""Random orders: the shop's own totals always add up the way its rounding type
says (per item, per line, on the total), before and after edits and refunds.
Checked on the records the API renders, in-process for speed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from koppel_sandbox_prestashop import PrestaShopState
from koppel_sandbox_prestashop.aftersales import refund
from koppel_sandbox_prestashop.catalogue import SOURCES
from koppel_sandbox_prestashop.orders import create_order, edit_order

D = Decimal
CENT = D("0.01")
HALF_CENT = D("0.005")

prices = st.decimals(min_value=D("0.01"), max_value=D("500"), places=3).map(str)
rates = st.sampled_from(["21", "9", "0", "19"])
rows = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["Koffie", "Thee", "Mok", "Molen"]),
        "quantity": st.integers(min_value=1, max_value=12),
        "tax_rate": rates,
    },
    optional={
        "price_tax_excl": prices,
        "price_tax_incl": prices,
        "reduction_percent": st.sampled_from(["0", "10", "12.5"]),
    },
)
cart_rules = st.one_of(
    st.fixed_dictionaries({"percent": st.sampled_from(["5", "10", "15", "33"])}),
    st.fixed_dictionaries(
        {
            "amount": st.decimals(min_value=1, max_value=60, places=2).map(str),
            "tax_included": st.booleans(),
        }
    ),
    st.fixed_dictionaries({"amount": st.just("0"), "free_shipping": st.just(True)}),
)
orders = st.fixed_dictionaries(
    {
        "rows": st.lists(rows, min_size=1, max_size=6),
        "cart_rules": st.lists(cart_rules, max_size=2),
        "shipping": st.fixed_dictionaries(
            {
                "carrier": st.sampled_from([2, 3]),
                "price_tax_incl": st.sampled_from(["0", "4.95", "6.95", "12.50"]),
            }
        ),
        "round_type": st.sampled_from([1, 2, 3]),
    },
    optional={
        "wrapping": st.fixed_dictionaries({"price_tax_excl": st.sampled_from(["1.00", "2.50"])})
    },
)


def record(state: PrestaShopState, resource: str, **match: Any) -> list[dict[str, Any]]:
    return [r for r in SOURCES[resource](state) if all(r[k] == v for k, v in match.items())]


def is_cents(amount: Decimal) -> bool:
    return amount == amount.quantize(CENT)


def check_order(state: PrestaShopState, order_id: int) -> None:
    (order,) = record(state, "orders", id=order_id)
    lines = record(state, "order_details", id_order=order_id)
    round_type = order["round_type"]
    for suffix, products in (("incl", "total_products_wt"), ("excl", "total_products")):
        paid = (
            order[products]
            + order[f"total_shipping_tax_{suffix}"]
            + order[f"total_wrapping_tax_{suffix}"]
            - order[f"total_discounts_tax_{suffix}"]
        )
        assert paid == order[f"total_paid_tax_{suffix}"] >= 0
        assert is_cents(order[f"total_paid_tax_{suffix}"])
    assert order["total_paid"] == order["total_paid_tax_incl"]
    for line in lines:
        qty, rate = line["product_quantity"], line["tax_rate"]
        unit_excl, unit_incl = line["unit_price_tax_excl"], line["unit_price_tax_incl"]
        assert abs(unit_incl - unit_excl * (100 + rate) / 100) <= D("0.0000005")
        exact_excl, exact_incl = unit_excl * qty, unit_excl * (100 + rate) / 100 * qty
        total_excl, total_incl = line["total_price_tax_excl"], line["total_price_tax_incl"]
        if round_type == 1:  # each unit price rounded, then times the quantity
            assert is_cents(total_excl / qty) and is_cents(total_incl / qty)
            assert abs(total_excl / qty - unit_excl) <= HALF_CENT
        elif round_type == 2:  # the line rounded once
            assert is_cents(total_excl) and is_cents(total_incl)
            assert abs(total_excl - exact_excl) <= HALF_CENT
            assert abs(total_incl - exact_incl) <= HALF_CENT
        else:  # lines exact at 6 decimals, only the sums are rounded
            assert abs(total_excl - exact_excl) <= D("0.0000005")
            assert abs(total_incl - exact_incl) <= D("0.0000005")
        assert total_incl >= total_excl, "VAT per line is never negative"
        assert (rate == 0) == (line["associations"]["taxes"] == [])
    sum_excl = sum((line["total_price_tax_excl"] for line in lines), D(0))
    sum_incl = sum((line["total_price_tax_incl"] for line in lines), D(0))
    if round_type == 3:
        assert abs(order["total_products"] - sum_excl) <= HALF_CENT
        assert abs(order["total_products_wt"] - sum_incl) <= HALF_CENT
    else:
        assert (order["total_products"], order["total_products_wt"]) == (sum_excl, sum_incl)
    rate = order["carrier_tax_rate"]
    shipping_excl = order["total_shipping_tax_excl"]
    assert abs(order["total_shipping_tax_incl"] - shipping_excl * (100 + rate) / 100) <= HALF_CENT
    rules = record(state, "order_cart_rules", id_order=order_id)
    gross_incl = (
        order["total_products_wt"]
        + order["total_shipping_tax_incl"]
        + order["total_wrapping_tax_incl"]
    )
    assert order["total_discounts_tax_incl"] == min(
        sum((r["value"] for r in rules), D(0)), gross_incl
    )
    rows_view = order["associations"]["order_rows"]
    assert [(r["id"], r["product_quantity"]) for r in rows_view] == [
        (line["id"], line["product_quantity"]) for line in lines
    ]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=orders)
def test_random_orders_add_up_as_their_rounding_type_says(spec: dict[str, Any]) -> None:
    state = PrestaShopState(seed=1)
    order = create_order(state, spec)
    check_order(state, order.id)


@settings(max_examples=60, deadline=None)
@given(spec=orders, data=st.data())
def test_edited_orders_still_add_up(spec: dict[str, Any], data: st.DataObject) -> None:
    state = PrestaShopState(seed=2)
    order = create_order(state, spec)
    kept = data.draw(st.sampled_from(order.lines))
    quantity = data.draw(st.integers(min_value=1, max_value=20))
    extra = data.draw(st.lists(rows, max_size=2))
    edit_order(state, order.id, {"quantities": {kept.id: quantity}})
    edit_order(state, order.id, {"rows": [{"id": line.id} for line in order.lines] + extra})
    check_order(state, order.id)
    assert any(line.id == kept.id and line.quantity == quantity for line in order.lines)


@settings(max_examples=60, deadline=None)
@given(spec=orders, data=st.data())
def test_refunds_never_exceed_what_was_sold_and_slips_add_up(
    spec: dict[str, Any], data: st.DataObject
) -> None:
    state = PrestaShopState(seed=3)
    order = create_order(state, {**spec, "state": 2})
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        line = data.draw(st.sampled_from(order.lines))
        if line.quantity_refunded == line.quantity:
            continue
        refund(
            state,
            order.id,
            {"lines": [{"id_order_detail": line.id, "quantity": data.draw(st.integers(1, 15))}]},
        )
    check_order(state, order.id)
    for detail in record(state, "order_details", id_order=order.id):
        refunded = sum(
            d["product_quantity"]
            for slip in record(state, "order_slip", id_order=order.id)
            for d in slip["associations"]["order_slip_details"]
            if d["id_order_detail"] == detail["id"]
        )
        assert refunded == detail["product_quantity_refunded"] <= detail["product_quantity"]
    for slip in record(state, "order_slip", id_order=order.id):
        assert slip["amount"] == slip["total_products_tax_incl"] + slip["total_shipping_tax_incl"]
        excl = sum((d["amount_tax_excl"] for d in slip["associations"]["order_slip_details"]), D(0))
        assert abs(slip["total_products_tax_excl"] - excl) <= HALF_CENT

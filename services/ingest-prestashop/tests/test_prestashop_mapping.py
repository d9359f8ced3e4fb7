"""PrestaShop orders, as the sandbox renders them, through fetch + mapping: each rule of
`mapping.py` on an order that exercises it. The expected figures are the shop's own (read
back from the sandbox's order view), not recomputed here."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from koppel_bookkeeping import plan_booking
from koppel_contracts import BookingOptions, OrderStatus, VatAccountMapping, round_cents
from koppel_ingest import OrderUnreadable

from .prestashop_harness import COFFEE, MUG, PrestashopHarness, vat_by_rate

TEA = {"name": "Groene thee", "price_tax_incl": "6.49", "tax_rate": "9", "reference": "TH-1"}
B2B = {
    "customer": {"email": "Inkoop@DeKoffiehoek.nl", "firstname": "Jeroen", "lastname": "Bakker"},
    "invoice_address": {
        "company": "De Koffiehoek B.V.",
        "vat_number": "NL 859.123.456.B01",
        "address1": "Oudegracht 200",
        "postcode": "3511 NR",
        "city": "Utrecht",
    },
    "delivery_address": {"address1": "Industrieweg 4", "city": "Antwerpen", "country": "BE"},
}


async def shop_view(harness: PrestashopHarness, order_id: str) -> dict[str, Any]:
    return await harness.control.order(int(order_id))


async def test_a_business_order_carries_company_vat_number_and_both_addresses(
    harness: PrestashopHarness,
) -> None:
    order_id = await harness.place_order(**B2B)
    order = await harness.canonical(order_id)
    shop = (await shop_view(harness, order_id))["order"]
    assert order.customer.email == "inkoop@dekoffiehoek.nl"
    assert (order.customer.company_name, order.customer.vat_number) == (
        "De Koffiehoek B.V.",
        "NL859123456B01",
    )
    assert (order.customer.first_name, order.customer.last_name) == ("Jeroen", "Bakker")
    assert order.billing_address.address_line == "Oudegracht 200"
    assert order.billing_address.country_code == "NL"
    assert order.shipping_address is not None
    assert (order.shipping_address.city, order.shipping_address.country_code) == ("Antwerpen", "BE")
    assert order.order_number == shop["reference"]
    assert order.totals.total_incl_vat == Decimal(shop["total_paid_tax_incl"])
    assert order.totals.total_excl_vat == Decimal(shop["total_paid_tax_excl"])


async def test_each_line_carries_the_rate_of_its_own_tax(harness: PrestashopHarness) -> None:
    free = {"name": "Cadeaubon", "price_tax_excl": "10", "tax_rate": "0"}
    order_id = await harness.place_order(
        rows=[{**COFFEE, "quantity": 2}, {**MUG, "quantity": 3}, free]
    )
    order = await harness.canonical(order_id)
    details = (await shop_view(harness, order_id))["order_details"]
    assert [(line.description, line.vat_rate) for line in order.lines] == [
        ("Koffiebonen Espresso 1 kg", Decimal(9)),
        ("Koffiemok wit 300 ml", Decimal(21)),
        ("Cadeaubon", Decimal(0)),
    ]
    for line, detail in zip(order.lines, details, strict=True):
        assert line.total_incl_vat == Decimal(detail["total_price_tax_incl"])
        assert line.total_excl_vat == Decimal(detail["total_price_tax_excl"])
        assert line.quantity == detail["product_quantity"]


async def test_a_percentage_voucher_is_split_over_the_goods_rates_as_the_shop_charged(
    harness: PrestashopHarness,
) -> None:
    order_id = await harness.place_order(
        rows=[{**COFFEE, "quantity": 6}, {**MUG, "quantity": 2}, {**TEA, "quantity": 4}],
        cart_rules=[{"name": "Zakelijk 10%", "percent": "10"}],
        shipping={"carrier": "DHL", "price_tax_incl": "8.95"},
    )
    order = await harness.canonical(order_id)
    shop = await shop_view(harness, order_id)
    [rule] = shop["order_cart_rules"]
    assert [(d.description, d.vat_rate) for d in order.discounts] == [
        ("Zakelijk 10% (21% btw)", Decimal(21)),
        ("Zakelijk 10% (9% btw)", Decimal(9)),
    ]
    assert sum(d.amount_incl_vat for d in order.discounts) == Decimal(rule["value"])
    assert sum(d.amount_excl_vat for d in order.discounts) == Decimal(rule["value_tax_excl"])
    # the VAT of the parts is the order's VAT: nothing was rounded away
    assert sum(vat_by_rate(order).values()) == order.totals.total_vat
    assert order.shipping is not None
    assert (order.shipping.description, order.shipping.vat_rate) == ("Verzendkosten DHL", 21)
    assert order.shipping.amount_incl_vat == Decimal(shop["order"]["total_shipping_tax_incl"])


async def test_an_amount_voucher_and_gift_wrapping_at_its_own_rate(
    harness: PrestashopHarness,
) -> None:
    order_id = await harness.place_order(
        rows=[{**TEA, "quantity": 3}, {**MUG, "quantity": 2}],
        wrapping={"price_tax_incl": "2.50", "message": "Fijne verjaardag!"},
        cart_rules=[{"name": "WELKOM5", "amount": "5.00", "tax_included": True}],
    )
    order = await harness.canonical(order_id)
    shop = (await shop_view(harness, order_id))["order"]
    wrapping = order.lines[-1]
    assert (wrapping.description, wrapping.vat_rate) == ("Cadeauverpakking", 21)
    assert wrapping.total_incl_vat == Decimal(shop["total_wrapping_tax_incl"])
    assert wrapping.total_excl_vat == Decimal(shop["total_wrapping_tax_excl"])
    assert sum(d.amount_incl_vat for d in order.discounts) == Decimal("5.00")
    assert order.totals.total_incl_vat == Decimal(shop["total_paid_tax_incl"])


async def test_a_free_shipping_voucher_takes_the_shipping_at_the_carriers_rate(
    harness: PrestashopHarness,
) -> None:
    order_id = await harness.place_order(
        rows=[{**COFFEE, "quantity": 1}],
        cart_rules=[{"name": "GRATISVERZENDING", "percent": "0", "free_shipping": True}],
    )
    order = await harness.canonical(order_id)
    [discount] = order.discounts
    assert order.shipping is not None
    assert (discount.description, discount.vat_rate) == ("GRATISVERZENDING (verzendkosten)", 21)
    assert discount.amount_incl_vat == order.shipping.amount_incl_vat
    assert order.totals.total_incl_vat == Decimal("24.95")


async def test_the_currency_is_the_orders_own(harness: PrestashopHarness) -> None:
    order_id = await harness.place_order(currency={"iso_code": "GBP", "conversion_rate": "0.85"})
    order = await harness.canonical(order_id)
    assert order.currency == "GBP"


@pytest.mark.parametrize("round_type", [2, 3])
async def test_orders_rounded_per_line_or_on_the_total_keep_the_shops_figures(
    harness: PrestashopHarness, round_type: int
) -> None:
    odd = {"name": "Losse thee per gram", "price_tax_excl": "0.123456", "tax_rate": "9"}
    order_id = await harness.place_order(
        rows=[{**odd, "quantity": 7}, {**MUG, "quantity": 3}],
        cart_rules=[{"name": "Korting", "percent": "5"}],
        round_type=round_type,
    )
    order = await harness.canonical(order_id)
    shop = await shop_view(harness, order_id)
    assert order.totals.total_incl_vat == Decimal(shop["order"]["total_paid_tax_incl"])
    assert order.totals.total_excl_vat == Decimal(shop["order"]["total_paid_tax_excl"])
    assert [line.total_incl_vat for line in order.lines] == [
        Decimal(d["total_price_tax_incl"]) for d in shop["order_details"]
    ]


async def test_orders_of_one_split_checkout_get_numbers_of_their_own(
    harness: PrestashopHarness,
) -> None:
    first = await harness.place_order()
    second = await harness.place_order(sibling_of=int(first))
    numbers = [(await harness.canonical(o)).order_number for o in (first, second)]
    reference = (await shop_view(harness, first))["order"]["reference"]
    assert numbers == [f"{reference}-{first}", f"{reference}-{second}"]


async def test_a_partial_refund_takes_the_credit_slip_off_the_order(
    harness: PrestashopHarness,
) -> None:
    order_id = await harness.place_order(rows=[{**COFFEE, "quantity": 2}, {**MUG, "quantity": 2}])
    before = await harness.canonical(order_id)
    mug = (await shop_view(harness, order_id))["order_details"][1]
    slip = await harness.control.refund(int(order_id), [(mug["id"], 1)], shipping=True)
    after = await harness.canonical(order_id)
    assert after.lines[1].quantity == 1 and after.lines[0] == before.lines[0]
    assert after.shipping is None, "the shipping went back too"
    assert after.totals.total_incl_vat == before.totals.total_incl_vat - Decimal(slip["amount"])
    refunded_vat = Decimal(slip["total_products_tax_incl"]) - Decimal(
        slip["total_products_tax_excl"]
    )
    assert vat_by_rate(after)[Decimal(21)] == (
        vat_by_rate(before)[Decimal(21)]
        - refunded_vat
        - (before.shipping.amount_incl_vat - before.shipping.amount_excl_vat)  # type: ignore[union-attr]
    )
    observed = await harness.observe(order_id)
    assert not observed.cancelled, "a partial refund is an amendment"


async def test_a_refund_of_everything_cancels_the_order(harness: PrestashopHarness) -> None:
    order_id = await harness.place_order()
    await harness.control.refund(int(order_id), all_lines=True, shipping=True)
    observed = await harness.observe(order_id)
    assert observed.cancelled and not observed.bookable


async def test_items_back_but_shipping_kept_leaves_the_shipping(harness: PrestashopHarness) -> None:
    order_id = await harness.place_order(rows=[{**MUG, "quantity": 1}])
    await harness.control.refund(int(order_id), all_lines=True)
    observed = await harness.observe(order_id)
    order = await harness.canonical(order_id)
    assert not observed.cancelled
    assert [(line.quantity, line.total_incl_vat) for line in order.lines] == [(0, 0)]
    assert order.shipping is not None
    assert order.totals.total_incl_vat == order.shipping.amount_incl_vat


async def test_cancelled_and_refunded_states_cancel_and_the_status_follows_the_flags(
    harness: PrestashopHarness,
) -> None:
    order_id = await harness.place_order()
    assert (await harness.canonical(order_id)).status == OrderStatus.PROCESSING
    await harness.control.set_state(int(order_id), 4)
    assert (await harness.canonical(order_id)).status == OrderStatus.SHIPPED
    for cancelling in (6, 7):
        await harness.control.set_state(int(order_id), cancelling)
        assert (await harness.observe(order_id)).cancelled


async def test_a_17_shop_answering_strings_maps_the_same(harness: PrestashopHarness) -> None:
    order_id = await harness.place_order(**B2B, cart_rules=[{"name": "K", "percent": "10"}])
    modern = await harness.canonical(order_id)
    await harness.control.configure(api_style="1.7")
    assert await harness.canonical(order_id) == modern


async def test_a_mistyped_email_does_not_stop_the_order(harness: PrestashopHarness) -> None:
    order_id = await harness.place_order(customer={"email": "anna at example.nl"})
    assert (await harness.canonical(order_id)).customer.email is None


async def test_lines_that_do_not_add_up_to_the_shops_products_total_are_unreadable(
    harness: PrestashopHarness,
) -> None:
    order_id = await harness.place_order()
    detail = (await shop_view(harness, order_id))["order_details"][0]
    await harness.control.malform(
        int(order_id), order_details={detail["id"]: {"total_price_tax_incl": "1.000000"}}
    )
    with pytest.raises(OrderUnreadable, match=r"the lines add up to .* total_products_wt is"):
        await harness.canonical(order_id)


async def test_a_line_not_charged_at_its_taxs_rate_is_unreadable(
    harness: PrestashopHarness,
) -> None:
    order_id = await harness.place_order(rows=[{**MUG, "quantity": 1}], shipping={"carrier": 1})
    shop = await shop_view(harness, order_id)
    detail = shop["order_details"][0]
    # 10.00 excl. sold for 10.90 incl.: 9 %, while the line's tax says 21 %. The order's
    # totals agree with the line, so only the rate can tell.
    await harness.control.malform(
        int(order_id),
        order={
            "total_products_wt": "10.900000",
            "total_paid_tax_incl": "10.900000",
            "total_paid": "10.900000",
        },
        order_details={detail["id"]: {"total_price_tax_incl": "10.900000"}},
    )
    with pytest.raises(OrderUnreadable, match="not charged at its tax's 21"):
        await harness.canonical(order_id)


async def test_cart_rules_that_do_not_add_up_to_the_orders_discounts_are_unreadable(
    harness: PrestashopHarness,
) -> None:
    order_id = await harness.place_order(cart_rules=[{"name": "K", "percent": "10"}])
    await harness.control.malform(int(order_id), order={"total_discounts_tax_incl": "1.000000"})
    with pytest.raises(OrderUnreadable, match="cart rules add up to"):
        await harness.canonical(order_id)


@pytest.mark.parametrize("round_type", [1, 2, 3])
async def test_the_ledgers_booking_plan_books_the_vat_the_shop_charged(
    harness: PrestashopHarness, round_type: int
) -> None:
    order_id = await harness.place_order(
        rows=[{**COFFEE, "quantity": 6}, {**MUG, "quantity": 2}, {**TEA, "quantity": 4}],
        cart_rules=[{"name": "Zakelijk 10%", "percent": "10"}],
        wrapping={"price_tax_incl": "2.50"},
        round_type=round_type,
    )
    order = await harness.canonical(order_id)
    shop = (await shop_view(harness, order_id))["order"]
    accounts = [
        VatAccountMapping(vat_rate=Decimal(r), ledger_account=f"80{r}", vat_code=str(r))
        for r in (21, 9, 0)
    ]
    plan = plan_booking(order, BookingOptions(vat_accounts=accounts))
    assert plan.total_incl_vat == Decimal(shop["total_paid_tax_incl"])
    booked = {t.vat_rate: t.vat_amount for t in plan.rate_totals}
    charged = {rate: round_cents(vat) for rate, vat in vat_by_rate(order).items()}
    assert booked == charged
    assert sum(booked.values()) == Decimal(shop["total_paid_tax_incl"]) - Decimal(
        shop["total_paid_tax_excl"]
    )

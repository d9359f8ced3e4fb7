"""What a bol order maps to: the VAT of each line from the connection's tables, the
customer, partial cancellations and returns, and an order rebuilt from its shipments —
on payloads the sandbox renders as bol's spec has them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from koppel_contracts import OrderStatus, ShopOptions, VatRateSource
from koppel_ingest import OrderUnreadable
from koppel_ingest_bol.mapping import Trigger, map_order
from koppel_ingest_bol.orders import read_order, read_shipments, returned_items

from .bol_harness import BOOK, CHARGER
from .bol_payloads import EARBUDS, Shop

D = Decimal


def options(**values: object) -> ShopOptions:
    return ShopOptions(**values)  # type: ignore[arg-type]


def returns_of(shop: Shop) -> list:
    return [item for ret in shop.returns() for item in returned_items(ret)]


def test_each_line_gets_its_rate_from_the_offer_reference_then_the_ean_then_the_default() -> None:
    shop = Shop()
    order_id = shop.place(items=[{"ean": BOOK}, {"ean": CHARGER, "quantity": 2}, {"ean": EARBUDS}])
    tables = options(
        # The merchant typed the book as a GTIN-14: the same product.
        vat_by_ean={"0" + BOOK: "9", CHARGER: "9"},
        vat_by_offer_reference={"EL-LADER-65W": "21"},  # the reference wins over the EAN
        default_vat_rate="21",
    )
    order = map_order(read_order(shop.detail(order_id)), tables)
    book, charger, earbuds = order.lines
    assert (book.vat_rate, book.vat_rate_source) == (D("9"), VatRateSource.TABLE)
    assert (charger.vat_rate, charger.vat_rate_source) == (D("21"), VatRateSource.TABLE)
    assert (earbuds.vat_rate, earbuds.vat_rate_source) == (D("21"), VatRateSource.DEFAULT)
    assert earbuds.ean == EARBUDS, "the booking can name the EAN to add"
    # 12.99 at 9 %: VAT 1.07; 59.90 at 21 %: 10.40; 49.99 at 21 %: 8.68 (half-up per line)
    assert [ln.total_incl_vat - ln.total_excl_vat for ln in order.lines] == [
        D("1.07"),
        D("10.40"),
        D("8.68"),
    ]
    assert order.totals.total_incl_vat == D("122.88")
    assert order.totals.total_vat == D("20.15")
    assert order.prices_include_vat and order.paid and order.payment_method == "bol.com"
    assert order.status == OrderStatus.PROCESSING and order.order_number == order_id


def test_a_business_buyer_carries_company_and_vat_number_a_consumer_bols_alias() -> None:
    shop = Shop()
    business = map_order(read_order(shop.detail(shop.place(business=True))), options())
    assert business.customer.company_name == "Studio Lindeboom B.V."
    assert business.customer.vat_number == "NL859637412B01"
    assert business.billing_address.company_name == "Studio Lindeboom B.V."
    consumer_detail = shop.detail(shop.place())
    consumer = map_order(read_order(consumer_detail), options())
    assert consumer.customer.company_name is None and consumer.customer.vat_number is None
    alias = consumer_detail["billingDetails"]["email"]
    assert consumer.customer.email == alias.lower() and alias.endswith("@verkopen.bol.com")
    assert consumer.shipping_address is not None
    assert consumer.shipping_address.postal_code == consumer_detail["shipmentDetails"]["zipCode"]


def test_without_billing_details_the_delivery_details_are_the_customer() -> None:
    shop = Shop()
    detail = shop.detail(shop.place(billingDetails=None))
    assert "billingDetails" not in detail
    order = map_order(read_order(detail), options())
    assert order.customer.last_name == detail["shipmentDetails"]["surname"]
    assert order.billing_address.city == detail["shipmentDetails"]["city"]


def test_cancelled_units_leave_the_line_and_their_share_of_the_discount() -> None:
    shop = Shop()
    discount = [{"title": "2e halve prijs", "amount": "12.48"}]
    order_id = shop.place(items=[{"ean": CHARGER, "quantity": 2, "discounts": discount}])
    [item] = shop.item_ids(order_id)
    whole = map_order(read_order(shop.detail(order_id)), options())
    assert whole.lines[0].total_incl_vat == D("47.42")  # 2 x 29.95 - 12.48
    shop.account.cancel(order_id, [(item, 1)])
    half = map_order(read_order(shop.detail(order_id)), options())
    [line] = half.lines
    assert (line.quantity, line.discount_incl_vat, line.total_incl_vat) == (
        D(1),
        D("6.24"),
        D("23.71"),
    )
    shop.account.cancel(order_id, [(item, 1)])
    assert read_order(shop.detail(order_id)).cancelled


def test_credited_returns_reduce_the_order_by_ean_and_others_do_not() -> None:
    shop = Shop()
    order_id = shop.place(items=[{"ean": BOOK, "quantity": 3}, {"ean": CHARGER}], ship=True)
    book, charger = shop.item_ids(order_id)
    shop.account.create_return(book, 1, handling_result="RETURN_RECEIVED")
    shop.account.create_return(book, 1, handling_result="EXCHANGE_PRODUCT")  # stays sold
    refused = shop.account.create_return(
        charger, 1, handling_result="RETURN_DOES_NOT_MEET_CONDITIONS"
    )
    shop.account.create_return(book, 1)  # registered, not handled yet
    order = read_order(shop.detail(order_id), returns_of(shop))
    assert [(i.ean, i.returned, i.kept) for i in order.items] == [(BOOK, 1, 2), (CHARGER, 0, 1)]
    assert map_order(order, options()).lines[0].quantity == D(2)
    # Handled again, approved after all: the latest result counts.
    shop.account.handle_return(refused.items[0].rma_id, "STILL_APPROVED", 1)
    order = read_order(shop.detail(order_id), returns_of(shop))
    assert [(i.ean, i.returned) for i in order.items] == [(BOOK, 1), (CHARGER, 1)]


def test_everything_cancelled_or_returned_is_a_cancelled_order() -> None:
    shop = Shop()
    order_id = shop.place(items=[{"ean": BOOK, "quantity": 2}, {"ean": CHARGER}])
    book, charger = shop.item_ids(order_id)
    shop.account.ship(order_id, [(book, 2)])
    shop.account.cancel(order_id, [(charger, None)])
    shop.account.create_return(book, 2, handling_result="RETURN_RECEIVED")
    order = read_order(shop.detail(order_id), returns_of(shop))
    assert order.cancelled and order.status == "CANCELLED"
    assert not Trigger.parse(["paid"]).holds(order), "a cancelled order is never bookable"


def test_an_order_rebuilt_from_its_shipments_merges_items_and_takes_the_billing_customer() -> None:
    shop = Shop()
    order_id = shop.place(items=[{"ean": BOOK, "quantity": 3}, {"ean": CHARGER}], business=True)
    book, charger = shop.item_ids(order_id)
    shop.account.ship(order_id, [(book, 1)])
    shop.clock.advance(hours=2)
    shop.account.ship(order_id, [(book, 2), (charger, 1)])
    order = read_shipments(order_id, shop.shipments(order_id))
    assert order.source == "shipments"
    assert [(i.ean, i.quantity, i.shipped, i.kept) for i in order.items] == [
        (BOOK, 3, 3, 3),
        (CHARGER, 1, 1, 1),
    ]
    mapped = map_order(order, options(vat_by_ean={BOOK: "9"}))
    from_detail = map_order(read_order(shop.detail(order_id)), options(vat_by_ean={BOOK: "9"}))
    assert mapped.lines == from_detail.lines and mapped.totals == from_detail.totals
    assert mapped.customer == from_detail.customer and mapped.customer.vat_number


def test_a_partly_shipped_order_rebuilt_from_shipments_sells_what_was_shipped() -> None:
    shop = Shop()
    order_id = shop.place(items=[{"ean": BOOK, "quantity": 3}])
    [book] = shop.item_ids(order_id)
    shop.account.ship(order_id, [(book, 2)])
    shop.account.cancel(order_id, [(book, 1)])
    order = read_shipments(order_id, shop.shipments(order_id))
    assert [(i.quantity, i.shipped, i.cancelled, i.kept) for i in order.items] == [(3, 2, 1, 2)]


def test_the_trigger_is_placed_by_default_or_shipped_when_chosen() -> None:
    shop = Shop()
    order_id = shop.place(items=[{"ean": BOOK, "quantity": 2}])
    [book] = shop.item_ids(order_id)
    placed, shipped, unknown = (Trigger.parse(s) for s in (["paid"], ["shipped"], ["7"]))
    assert placed.holds(read_order(shop.detail(order_id)))
    assert not shipped.holds(read_order(shop.detail(order_id)))
    shop.account.ship(order_id, [(book, 1)])
    assert not shipped.holds(read_order(shop.detail(order_id))), "one unit still to ship"
    shop.account.ship(order_id, [(book, 1)])
    assert shipped.holds(read_order(shop.detail(order_id)))
    assert not unknown.holds(read_order(shop.detail(order_id))), "unknown triggers are ignored"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: d["orderItems"][0].update(unitPrice=None), "unitPrice"),
        (lambda d: d["billingDetails"].pop("countryCode"), "country code"),
        (lambda d: d["orderItems"][0].update(quantityCancelled=5), "cancelled"),
        (lambda d: d.update(orderPlacedDateTime="gisteren"), "orderPlacedDateTime"),
        (
            lambda d: d["orderItems"][0].update(discounts=[{"title": "x", "amount": 99}]),
            "negative",
        ),
    ],
)
def test_an_order_that_cannot_be_read_says_why(change, reason: str) -> None:
    shop = Shop()
    detail = shop.detail(shop.place(items=[{"ean": BOOK}]))
    change(detail)
    with pytest.raises(OrderUnreadable, match=reason):
        map_order(read_order(detail), options())

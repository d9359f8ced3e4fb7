"""Which debtor an order is booked on: the rules every ledger follows (`choose_debtor`)."""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from koppel_contracts import Address, BookingOptions, ConsumerDebtor, Customer, ShopSystem
from koppel_ledger import (
    CollectiveDebtor,
    FixedDebtor,
    MatchedDebtor,
    NoDebtor,
    OrderDebtor,
    Refusal,
    choose_debtor,
    is_business_buyer,
)
from koppel_testkit import make_order

EXAMPLES = int(os.environ.get("KOPPEL_HYPOTHESIS_EXAMPLES", "150"))
COLLECTIVE = BookingOptions(consumers=ConsumerDebtor.COLLECTIVE)
OWN = BookingOptions()


def choose(order, booking=COLLECTIVE, *, connection="bol-1", ref="1001", shop=ShopSystem.BOL):
    return choose_debtor(
        order, booking, connection_id=connection, order_key=f"{connection}:{ref}", shop=shop
    )


def bol_consumer(alias: str = "2ad3f1c0c8bd@verkopen.bol.com", **changes: Any):
    return make_order(email=alias, payment_method="bol.com", **changes)


# --- the rules, one by one ---------------------------------------------------------------


def test_a_bol_consumer_goes_to_the_collective_debtor_named_after_the_shop() -> None:
    choice = choose(bol_consumer())
    assert isinstance(choice, CollectiveDebtor)
    assert choice.label() == "Consumenten Bol.com"
    assert choice.country_code == "NL" and choice.home
    assert choice.source == "collective"


@pytest.mark.parametrize(
    ("shop", "name"),
    [
        (ShopSystem.CCVSHOP, "Consumenten CCV Shop"),
        (ShopSystem.PRESTASHOP, "Consumenten PrestaShop"),
        (None, "Consumenten"),
    ],
)
def test_the_default_collective_name_names_the_shop_system(shop, name) -> None:
    choice = choose(bol_consumer(), shop=shop)
    assert isinstance(choice, CollectiveDebtor) and choice.label() == name


def test_the_merchants_collective_name_wins_and_a_blank_one_is_no_name() -> None:
    named = COLLECTIVE.model_copy(update={"collective_debtor_name": "Particulieren bol"})
    assert choose(bol_consumer(), named).label() == "Particulieren bol"
    blank = COLLECTIVE.model_copy(update={"collective_debtor_name": "   "})
    assert choose(bol_consumer(), blank).label() == "Consumenten Bol.com"


def test_two_consumers_of_a_connection_share_one_collective_debtor() -> None:
    first = choose(bol_consumer("a1@verkopen.bol.com", order_id="1"), ref="1")
    second = choose(
        bol_consumer(
            "z9@verkopen.bol.com",
            order_id="2",
            customer=Customer(email="z9@verkopen.bol.com", first_name="Els", last_name="Smit"),
        ),
        ref="2",
    )
    assert first == second


def test_a_consumer_abroad_has_the_collective_debtor_of_that_country() -> None:
    choice = choose(bol_consumer(country="BE"))
    assert isinstance(choice, CollectiveDebtor)
    assert (choice.country_code, choice.home) == ("BE", False)
    assert choice.label() == "Consumenten Bol.com (BE)"
    assert choice != choose(bol_consumer(country="NL"))


def test_the_country_is_where_the_goods_go_as_a_vat_country() -> None:
    to_belgium = Address(full_name="Jan", street="Kerkstraat 1", city="Gent", country_code="BE")
    choice = choose(bol_consumer(country="NL", shipping_address=to_belgium))
    assert choice.country_code == "BE"
    to_greece = to_belgium.model_copy(update={"country_code": "EL"})
    assert choose(bol_consumer(shipping_address=to_greece)).country_code == "GR"


def test_collective_seeds_differ_per_connection_country_and_name_only() -> None:
    base = choose(bol_consumer())
    assert base.seed == choose(bol_consumer(order_id="77"), ref="77").seed
    assert base.seed != choose(bol_consumer(), connection="bol-2").seed
    assert base.seed != choose(bol_consumer(country="BE")).seed
    renamed = COLLECTIVE.model_copy(update={"collective_debtor_name": "Bol klanten"})
    assert base.seed != choose(bol_consumer(), renamed).seed


@pytest.mark.parametrize(
    "business",
    [
        {"company_name": "Boon B.V."},
        {"vat_number": "NL123456789B01"},
        {"billing_address": Address(company_name="Boon B.V.", country_code="NL")},
    ],
    ids=["company", "vat number", "company on the billing address"],
)
def test_a_business_buyer_gets_a_debtor_of_its_own_even_in_collective_mode(business) -> None:
    order = bol_consumer("inkoop@boon.nl", **business)
    assert is_business_buyer(order)
    assert choose(order) == MatchedDebtor("inkoop@boon.nl", business=True)
    off = COLLECTIVE.model_copy(update={"debtor_matching": False})
    assert choose(order, off) == OrderDebtor("order|bol-1:1001", business=True)


def test_consumers_own_restores_a_debtor_per_customer() -> None:
    assert choose(bol_consumer("jan@example.nl"), OWN) == MatchedDebtor("jan@example.nl", False)
    off = OWN.model_copy(update={"debtor_matching": False})
    assert choose(bol_consumer(), off, ref="55") == OrderDebtor("order|bol-1:55", False)


def test_matching_without_an_e_mail_is_no_debtor_with_todays_refusal() -> None:
    choice = choose(make_order(email=None, payment_method="ideal"), OWN)
    assert choice == NoDebtor("ideal")
    refusal = choice.refusal()
    assert isinstance(refusal, Refusal)
    assert (refusal.reason_code, refusal.params) == ("no_debtor", {"payment_method": "ideal"})
    assert choose(make_order(email=None, payment_method=None), OWN) == NoDebtor("-")


def test_a_consumer_without_an_e_mail_still_has_the_collective_debtor() -> None:
    assert isinstance(choose(make_order(email=None)), CollectiveDebtor)


def test_a_fixed_debtor_for_the_payment_method_wins_over_every_other_rule() -> None:
    fixed = {"bol.com": "1002", "*": "1001"}
    for consumers in ConsumerDebtor:
        booking = BookingOptions(payment_method_debtors=fixed, consumers=consumers)
        assert choose(bol_consumer(), booking) == FixedDebtor("1002")
        assert choose(bol_consumer(company_name="Boon B.V."), booking) == FixedDebtor("1002")
        other = make_order(payment_method="ideal", email=None)
        assert choose(other, booking) == FixedDebtor("1001")


def test_a_long_name_is_cut_in_the_name_never_in_the_country() -> None:
    long = COLLECTIVE.model_copy(update={"collective_debtor_name": "Particuliere klanten " * 4})
    belgium = choose(bol_consumer(country="BE"), long)
    germany = choose(bol_consumer(country="DE"), long)
    assert len(belgium.label(50)) <= 50 and belgium.label(50).endswith(" (BE)")
    assert belgium.label(50) != germany.label(50)
    home = choose(bol_consumer(), long).label(50)
    assert len(home) == 50 and home.startswith(belgium.label(50).removesuffix(" (BE)"))


# --- properties over orders and options ---------------------------------------------------

texts = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)
emails = st.one_of(st.none(), st.builds(lambda a, b: f"{a}@{b}.nl", texts, texts))
countries = st.sampled_from(["NL", "BE", "DE", "FR", "US", "EL"])
methods = st.sampled_from(["ideal", "bol.com", "creditcard", None])


@st.composite
def orders(draw: st.DrawFn, *, business: bool | None = None):
    is_business = draw(st.booleans()) if business is None else business
    company = draw(st.one_of(st.none(), texts)) if is_business else None
    vat = "NL123456789B01" if is_business and (company is None or draw(st.booleans())) else None
    email = draw(emails)
    return make_order(
        order_id=draw(st.from_regex(r"[0-9]{1,6}", fullmatch=True)),
        email=email,
        country=draw(countries),
        payment_method=draw(methods),
        customer=Customer(
            email=email,
            first_name=draw(texts),
            last_name=draw(texts),
            company_name=company,
            vat_number=vat,
        ),
    )


@st.composite
def options(draw: st.DrawFn):
    fixed = draw(st.dictionaries(st.sampled_from(["ideal", "*", "paypal"]), st.just("1001")))
    return BookingOptions(
        payment_method_debtors=fixed,
        debtor_matching=draw(st.booleans()),
        consumers=draw(st.sampled_from(list(ConsumerDebtor))),
        collective_debtor_name=draw(st.one_of(st.none(), texts)),
    )


def _has_fixed(order, booking: BookingOptions) -> bool:
    debtors = booking.payment_method_debtors
    return (order.payment_method or "") in debtors or "*" in debtors


@settings(max_examples=EXAMPLES, deadline=None)
@given(order=orders(business=False), booking=options(), other=orders(business=False))
def test_consumers_in_collective_mode_share_a_debtor_that_knows_nothing_of_them(
    order, booking, other
) -> None:
    booking = booking.model_copy(update={"consumers": ConsumerDebtor.COLLECTIVE})
    choice = choose(order, booking, ref=order.source_order_id)
    if _has_fixed(order, booking):
        assert isinstance(choice, FixedDebtor)
        return
    assert isinstance(choice, CollectiveDebtor)
    assert order.customer.email is None or order.customer.email not in choice.label()
    assert f"{order.source_order_id}" not in choice.seed.split("|")
    # Another consumer to the same country, with whatever name and e-mail: the same debtor.
    same_country = other.model_copy(
        update={"billing_address": order.billing_address, "payment_method": order.payment_method}
    )
    assert choose(same_country, booking, ref=other.source_order_id) == choice


@settings(max_examples=EXAMPLES, deadline=None)
@given(order=orders(business=True), booking=options())
def test_business_buyers_are_never_on_the_collective_debtor(order, booking) -> None:
    choice = choose(order, booking)
    assert not isinstance(choice, CollectiveDebtor)
    if not isinstance(choice, FixedDebtor | NoDebtor):
        assert choice.business


@settings(max_examples=EXAMPLES, deadline=None)
@given(order=orders(), booking=options())
def test_consumers_own_books_exactly_as_before_the_collective_debtor(order, booking) -> None:
    booking = booking.model_copy(update={"consumers": ConsumerDebtor.OWN})
    choice = choose(order, booking, ref="42")
    # The rules the ledgers applied before choose_debtor existed.
    email = order.customer.email
    if _has_fixed(order, booking):
        assert isinstance(choice, FixedDebtor)
    elif booking.debtor_matching and email:
        assert isinstance(choice, MatchedDebtor) and choice.email == email
    elif booking.debtor_matching:
        assert choice == NoDebtor(order.payment_method or "-")
    else:
        assert isinstance(choice, OrderDebtor) and choice.seed == "order|bol-1:42"


@settings(max_examples=EXAMPLES, deadline=None)
@given(order=orders(), booking=options())
def test_another_replica_reading_the_same_event_chooses_the_same_debtor(order, booking) -> None:
    again = type(order).model_validate_json(order.model_dump_json())
    assert choose(order, booking) == choose(again, booking.model_validate(booking.model_dump()))

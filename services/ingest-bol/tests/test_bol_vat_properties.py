"""Every rule that splits or rounds, for any amounts (hypothesis): the VAT inside a price,
a line's net side, the discount kept for part of a line's units, returns spread over
items, and whole orders with mixed rates."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from koppel_contracts import ShopOptions, VatRateSource
from koppel_ingest_bol.mapping import line_of, map_order
from koppel_ingest_bol.orders import BolOrder, Item, Returned, with_returns
from koppel_ingest_bol.vat import discount_kept, ean_key, rate_for, vat_in

CENT = Decimal("0.01")
RATES = [Decimal(r) for r in ("0", "5.5", "6", "9", "12", "17", "20", "21", "25", "27")]
prices = st.decimals(min_value="0.01", max_value="2500.00", places=2)
rates = st.sampled_from(RATES)
PARTY = {
    "firstName": "Sanne",
    "surname": "de Vries",
    "streetName": "Oudegracht",
    "houseNumber": "112",
    "zipCode": "3511AX",
    "city": "Utrecht",
    "countryCode": "NL",
    "email": "abc@verkopen.bol.com",
}


@st.composite
def items(draw: st.DrawFn, n: int = 0) -> Item:
    quantity = draw(st.integers(1, 40))
    unit = draw(prices)
    discount = draw(st.decimals(min_value=0, max_value=quantity * unit, places=2))
    shipped = draw(st.integers(0, quantity))
    cancelled = draw(st.integers(0, quantity - shipped))
    returned = draw(st.integers(0, shipped))
    return Item(
        order_item_id=f"item-{n}",
        ean=draw(st.sampled_from(["9789046829998", "8718526040210", "8718526040111"])),
        title="Artikel",
        offer_reference=None,
        method="FBR",
        quantity=quantity,
        shipped=shipped,
        cancelled=cancelled,
        unit_price=unit,
        discount=discount,
        returned=returned,
    )


@given(prices, st.integers(1, 100), rates)
def test_the_vat_inside_a_price_is_within_half_a_cent_and_the_rest_is_net(
    unit: Decimal, quantity: int, rate: Decimal
) -> None:
    incl = unit * quantity
    vat = vat_in(incl, rate)
    exact = incl * rate / (100 + rate)
    assert vat == vat.quantize(CENT) and abs(vat - exact) <= Decimal("0.005")
    assert 0 <= vat <= incl


@given(st.decimals(min_value=0, max_value="5000", places=2), st.integers(1, 60), st.data())
def test_the_discount_kept_grows_with_the_units_kept_from_none_to_all(
    discount: Decimal, quantity: int, data: st.DataObject
) -> None:
    kept = data.draw(st.integers(0, quantity))
    share = discount_kept(discount, kept, quantity)
    assert share == share.quantize(CENT) and 0 <= share <= discount
    assert abs(share - discount * kept / quantity) <= Decimal("0.005")
    assert discount_kept(discount, quantity, quantity) == discount
    assert discount_kept(discount, 0, quantity) == 0
    if kept < quantity:
        assert share <= discount_kept(discount, kept + 1, quantity)


@given(items(), rates)
def test_every_line_adds_up_to_what_the_buyer_paid_for_the_units_kept(
    item: Item, rate: Decimal
) -> None:
    if item.kept == 0:
        return
    line = line_of(item, ShopOptions(default_vat_rate=rate))  # the contract validates it
    share = discount_kept(item.discount, item.kept, item.quantity)
    assert line.total_incl_vat == item.kept * item.unit_price - share
    vat = line.total_incl_vat - line.total_excl_vat
    assert vat == vat_in(line.total_incl_vat, rate)
    assert line.vat_rate_source == VatRateSource.DEFAULT


@given(st.lists(items(), min_size=1, max_size=6), st.lists(rates, min_size=3, max_size=3))
def test_a_mixed_rate_order_totals_its_lines_and_keeps_each_lines_vat(
    drawn: list[Item], table: list[Decimal]
) -> None:
    lines = tuple(Item(**{**vars(item), "order_item_id": f"i{n}"}) for n, item in enumerate(drawn))
    if all(item.kept == 0 for item in lines):
        return
    eans = ["9789046829998", "8718526040210", "8718526040111"]
    options = ShopOptions(vat_by_ean=dict(zip(eans, table, strict=True)))
    order = BolOrder("1", datetime(2026, 3, 16, tzinfo=UTC), lines, PARTY, PARTY, "order")
    mapped = map_order(order, options)  # the contract checks the parts against the totals
    assert mapped.totals.total_incl_vat == sum(ln.total_incl_vat for ln in mapped.lines)
    per_rate: dict[Decimal, Decimal] = {}
    for ln in mapped.lines:
        assert ln.vat_rate == dict(zip(eans, table, strict=True))[ln.ean or ""]
        per_rate[ln.vat_rate] = per_rate.get(ln.vat_rate, Decimal(0)) + (
            ln.total_incl_vat - ln.total_excl_vat
        )
    assert sum(per_rate.values()) == mapped.totals.total_vat


@given(st.lists(items(), min_size=1, max_size=5), st.lists(st.integers(0, 30), max_size=4))
def test_returns_go_to_items_of_their_ean_never_beyond_what_was_shipped(
    drawn: list[Item], returned: list[int]
) -> None:
    eans = ["9789046829998", "8718526040210", "8718526040111"]
    rets = [Returned(f"r{n}", "1", eans[n % 3], q) for n, q in enumerate(returned)]
    spread = with_returns(drawn, rets)
    for ean in eans:
        credited = sum(r.quantity for r in rets if r.ean == ean)
        taken = sum(i.returned for i in spread if i.ean == ean)
        shipped = sum(i.shipped for i in spread if i.ean == ean)
        assert taken == min(credited, shipped)
    assert all(0 <= i.returned <= i.shipped for i in spread)


@given(st.text(alphabet="0123456789", min_size=8, max_size=13), st.integers(0, 3), rates, rates)
def test_an_ean_is_found_with_or_without_leading_zeros_and_a_reference_wins(
    digits: str, zeros: int, by_ean: Decimal, by_reference: Decimal
) -> None:
    ean = digits.lstrip("0") or "1"
    options = ShopOptions(
        vat_by_ean={"0" * zeros + ean: by_ean}, vat_by_offer_reference={"SKU-1": by_reference}
    )
    assert ean_key("0" * zeros + ean) == ean_key(ean)
    assert rate_for(options, offer_reference=None, ean=ean) == (by_ean, VatRateSource.TABLE)
    assert rate_for(options, offer_reference="SKU-1", ean=ean)[0] == by_reference
    assert rate_for(options, offer_reference="SKU-2", ean="42" + ean)[1] == VatRateSource.DEFAULT

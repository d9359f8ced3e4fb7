"""Property tests for every rule that splits or rounds amounts. The orders are computed the
way PrestaShop's cart calculator does (the sandbox's `pricing`, itself checked against
PrestaShop's code), in all three rounding types, then mapped: the shop's totals must come
out to the cent, the VAT of the parts must be the order's VAT, and a split never makes or
loses a cent."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from koppel_ingest_prestashop import records
from koppel_ingest_prestashop.amounts import allocate, charged_at, rate_of
from koppel_ingest_prestashop.mapping import OrderBundle, map_order
from koppel_sandbox_prestashop import pricing

from .prestashop_harness import vat_by_rate

RATES = (Decimal(0), Decimal(9), Decimal(21))
TAX_IDS = {Decimal(21): 1, Decimal(9): 2}
cents = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("250"), places=2)
prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("250"), places=6)
rates = st.sampled_from(RATES)
round_types = st.sampled_from([1, 2, 3])
PROPERTIES = settings(max_examples=150, deadline=None)
ADDRESS = records.Address(
    id=1,
    id_country=13,
    company=None,
    firstname="Anna",
    lastname="de Vries",
    vat_number=None,
    address1="Lange Nieuwstraat 12",
    address2=None,
    postcode="3512 PH",
    city="Utrecht",
    phone=None,
)


# ---- the splits on their own --------------------------------------------------------------


@PROPERTIES
@given(
    total=st.decimals(min_value=Decimal("-500"), max_value=Decimal("500"), places=2),
    weights=st.lists(
        st.decimals(min_value=Decimal(0), max_value=Decimal("900"), places=6), min_size=1
    ).filter(lambda ws: sum(ws) > 0),
)
def test_an_allocation_adds_up_exactly_and_each_share_is_within_a_cent(
    total: Decimal, weights: list[Decimal]
) -> None:
    shares = allocate(total, weights)
    assert sum(shares) == total
    whole = sum(weights)
    for share, weight in zip(shares, weights, strict=True):
        assert abs(share - total * weight / whole) < Decimal("0.01")
        assert share == share.quantize(Decimal("0.01"))
        if weight == 0:
            assert share == 0


@PROPERTIES
@given(price=st.decimals(min_value=Decimal("1"), max_value=Decimal("500"), places=6), rate=rates)
def test_the_rate_of_an_amount_rounded_by_the_shop_is_found_again(
    price: Decimal, rate: Decimal
) -> None:
    charged = pricing.charge(price, rate, includes_tax=False)
    assert rate_of(charged.tax_excl, charged.tax_incl, RATES, "wrapping") == rate


@PROPERTIES
@given(price=prices, rate=rates, quantity=st.integers(1, 40), round_type=round_types)
def test_a_line_the_shop_rounded_its_own_way_counts_as_charged_at_its_rate(
    price: Decimal, rate: Decimal, quantity: int, round_type: int
) -> None:
    line = pricing.line_amounts(price, rate, quantity, round_type)
    assert charged_at(line.total_tax_excl, line.total_tax_incl, rate, quantity)
    other = Decimal(21) if rate != 21 else Decimal(9)
    if line.total_tax_excl >= quantity:  # a cent or two cannot tell rates apart
        assert not charged_at(line.total_tax_excl, line.total_tax_incl, other, quantity)


# ---- whole orders ---------------------------------------------------------------------------


@st.composite
def shop_orders(draw: st.DrawFn) -> tuple[OrderBundle, list[tuple[int, int]], bool, int]:
    """An order as PrestaShop computes it, a partial refund of it (detail, quantity), whether
    the shipping goes back too, and the order's rounding type."""
    round_type = draw(round_types)
    rows = draw(st.lists(st.tuples(prices, rates, st.integers(1, 12)), min_size=1, max_size=5))
    amounts = [pricing.line_amounts(p, r, q, round_type) for p, r, q in rows]
    shipping_rate = draw(rates)
    shipping = pricing.charge(draw(cents), shipping_rate, includes_tax=False)
    wrapping = (  # from a euro up: a cent or two of wrapping fits any rate
        pricing.charge(draw(cents.filter(lambda c: c >= 1)), Decimal(21), includes_tax=False)
        if draw(st.booleans())
        else pricing.charge(Decimal(0), Decimal(21), includes_tax=False)
    )
    products_excl = pricing.q2(sum(a.total_tax_excl for a in amounts))
    products_incl = pricing.q2(sum(a.total_tax_incl for a in amounts))
    voucher = draw(st.sampled_from(["none", "percent", "amount"]))
    rules = []
    if voucher == "percent":
        percent = draw(st.decimals(min_value=Decimal(1), max_value=Decimal(50), places=2))
        rules.append(
            pricing.cart_rule_value(
                products_excl=products_excl,
                products_incl=products_incl,
                shipping=shipping,
                percent=percent,
            )
        )
    elif voucher == "amount":
        amount = draw(cents.filter(lambda a: a < products_incl))
        rules.append(
            pricing.cart_rule_value(
                products_excl=products_excl,
                products_incl=products_incl,
                shipping=shipping,
                amount=amount,
            )
        )
    totals = pricing.order_totals(amounts, rules, shipping, wrapping)
    details = tuple(
        records.Detail(
            id=i + 1,
            name=f"Artikel {i + 1}",
            reference=None,
            ean13=None,
            quantity=q,
            unit_price_tax_incl=a.unit_tax_incl,
            unit_price_tax_excl=a.unit_tax_excl,
            total_price_tax_incl=a.total_tax_incl,
            total_price_tax_excl=a.total_tax_excl,
            tax_ids=(TAX_IDS[r],) if r else (),
        )
        for i, ((_, r, q), a) in enumerate(zip(rows, amounts, strict=True))
    )
    refund = [(d.id, draw(st.integers(0, d.quantity - 1))) for d in details]
    refund_shipping = draw(st.booleans())
    order = records.Order(
        id=1,
        reference="KBHVCMDMO",
        current_state=2,
        id_customer=1,
        id_address_invoice=1,
        id_address_delivery=1,
        id_currency=1,
        id_carrier=2,
        date_add="2026-11-23 10:00:00",
        date_upd="2026-11-23 10:00:00",
        payment="iDEAL",
        total_paid_tax_incl=totals.paid_incl,
        total_paid_tax_excl=totals.paid_excl,
        total_products=totals.products_excl,
        total_products_wt=totals.products_incl,
        total_discounts_tax_incl=totals.discounts_incl,
        total_discounts_tax_excl=totals.discounts_excl,
        total_shipping_tax_incl=shipping.tax_incl,
        total_shipping_tax_excl=shipping.tax_excl,
        carrier_tax_rate=shipping_rate,
        total_wrapping_tax_incl=wrapping.tax_incl,
        total_wrapping_tax_excl=wrapping.tax_excl,
        conversion_rate=Decimal(1),
        rows=tuple(records.OrderRow(d.id, d.quantity) for d in details),
    )
    bundle = OrderBundle(
        order=order,
        state=records.State(2, {"1": "Betaling aanvaard"}, True, False, False, frozenset()),
        details=details,
        line_rates={d.id: r for d, (_, r, _) in zip(details, rows, strict=True)},
        cart_rules=tuple(
            records.CartRule("Korting", rule.value, rule.value_tax_excl, False) for rule in rules
        ),
        slips=(),
        customer=records.Customer("anna@example.nl", "Anna", "de Vries", None),
        invoice_address=ADDRESS,
        delivery_address=ADDRESS,
        countries={13: "NL"},
        currency="EUR",
        carrier_name="PostNL",
        shop_rates=frozenset(RATES),
        order_number="KBHVCMDMO",
        placed_at=datetime(2026, 11, 23, 9, tzinfo=UTC),
    )
    return bundle, [(d, q) for d, q in refund if q], refund_shipping, round_type


@PROPERTIES
@given(shop_orders())
def test_a_mapped_order_keeps_the_shops_totals_and_its_vat(
    example: tuple[OrderBundle, list[tuple[int, int]], bool, int],
) -> None:
    bundle, _, _, _ = example
    order = map_order(bundle)
    assert order.totals.total_incl_vat == bundle.order.total_paid_tax_incl
    assert order.totals.total_excl_vat == bundle.order.total_paid_tax_excl
    parts_vat = sum(vat_by_rate(order).values())
    cent = Decimal("0.01")
    if all(
        d.total_price_tax_incl == d.total_price_tax_incl.quantize(cent)
        and d.total_price_tax_excl == d.total_price_tax_excl.quantize(cent)
        for d in bundle.details
    ):
        assert parts_vat == order.totals.total_vat, "nothing rounded away"
    else:  # rounding on the total: the lines keep 6 decimals, the shop rounds the sums
        assert abs(parts_vat - order.totals.total_vat) < Decimal("0.01")
    goods: dict[Decimal, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for detail in bundle.details:
        goods[bundle.line_rates[detail.id]][0] += detail.total_price_tax_excl
        goods[bundle.line_rates[detail.id]][1] += detail.total_price_tax_incl
    for rule in bundle.cart_rules:
        assert sum(d.amount_incl_vat for d in order.discounts) == rule.value
        assert sum(d.amount_excl_vat for d in order.discounts) == rule.value_tax_excl
        for d in order.discounts:  # each rate's part is taxed like that rate's goods
            assert d.vat_rate is not None
            excl, incl = goods[d.vat_rate]
            expected = d.amount_excl_vat * incl / excl
            assert abs(d.amount_incl_vat - expected) <= Decimal("0.04")


@PROPERTIES
@given(shop_orders())
def test_a_partial_refund_takes_off_exactly_what_the_slip_gave_back(
    example: tuple[OrderBundle, list[tuple[int, int]], bool, int],
) -> None:
    bundle, refund, refund_shipping, round_type = example
    by_id = {d.id: d for d in bundle.details}
    unit = [(by_id[d].unit_price_tax_excl, bundle.line_rates[d], q) for d, q in refund]
    products = pricing.slip_products(unit, round_type)
    shipping = bundle.order
    slip = records.Slip(
        id=1,
        products_tax_excl=products.products_excl,
        products_tax_incl=products.products_incl,
        shipping_tax_excl=shipping.total_shipping_tax_excl if refund_shipping else Decimal(0),
        shipping_tax_incl=shipping.total_shipping_tax_incl if refund_shipping else Decimal(0),
        lines=tuple(
            records.SlipLine(
                d,
                q,
                pricing.q6(by_id[d].unit_price_tax_excl * q),
                pricing.q6(by_id[d].unit_price_tax_incl * q),
            )
            for d, q in refund
        ),
    )
    before = map_order(bundle)
    after = map_order(OrderBundle(**{**vars(bundle), "slips": (slip,)}))
    given_back_incl = slip.products_tax_incl + slip.shipping_tax_incl
    given_back_excl = slip.products_tax_excl + slip.shipping_tax_excl
    assert after.totals.total_incl_vat == before.totals.total_incl_vat - given_back_incl
    assert after.totals.total_excl_vat == before.totals.total_excl_vat - given_back_excl
    lines_back = sum(b.total_incl_vat for b in before.lines) - sum(
        a.total_incl_vat for a in after.lines
    )
    assert lines_back == slip.products_tax_incl
    refunded = dict(refund)
    for old in before.lines[: len(bundle.details)]:
        [new] = [n for n in after.lines if n.description.startswith(old.description)]
        detail = next(d for d in bundle.details if d.name == old.description)
        back = refunded.get(detail.id, 0)
        assert new.quantity == old.quantity - back
        # the slip's own rounding: at most a cent per item given back
        assert new.total_incl_vat >= -Decimal("0.01") * back

"""A hypothesis corpus of random shop orders → the documents ledger-asperion writes: every
one valid under the UBL 2.1 XSD, EN 16931 and (where claimed) NLCIUS, and reading back to
the order's total and to the booked VAT per rate, to the cent — invoices and the credit
notes that cancel them.

Orders mix goods at the destination's rates, whole and fractional quantities, line
discounts, coupons with and without a rate, shipping and payment costs with and without a
rate, paid and unpaid, for Dutch consumers and businesses, EU consumers (OSS), EU
businesses (ICP) and buyers outside the EU (export)."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from koppel_contracts import Charge, OrderDiscount
from koppel_ledger_asperion.adapter import read_back
from koppel_ledger_asperion.context import context_for_order
from koppel_ledger_asperion.documents import StoredDocument
from koppel_ledger_asperion.mapping import build_document
from koppel_testkit import line, make_order
from koppel_ubl import DocumentKind, read_totals, validate, write_document

from .asperion_helpers import CONNECTION, demo_settings, plan_of

D = Decimal
CENT = D("0.01")
EXAMPLES = int(os.environ.get("KOPPEL_HYPOTHESIS_EXAMPLES", "60"))
SETTINGS = demo_settings()

# (country, customer VAT number, rates the shop charges there)
DESTINATIONS = [
    ("NL", None, ("21", "9", "0")),
    ("NL", "NL000099995B57", ("21", "9")),
    ("DE", None, ("19", "7")),  # OSS
    ("BE", None, ("21", "6")),  # OSS
    ("DE", "DE123456789", ("0",)),  # ICP
    ("US", None, ("0",)),  # export
]


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def excl(incl: Decimal, rate: str) -> Decimal:
    return cents(incl * 100 / (100 + D(rate)))


@st.composite
def orders(draw: st.DrawFn):
    country, vat_number, rates = draw(st.sampled_from(DESTINATIONS))
    lines = []
    for n in range(draw(st.integers(1, 5))):
        quantity = draw(st.sampled_from(["1", "2", "3", "12", "0.5", "1.25"]))
        price = D(draw(st.integers(50, 25_000))) / 100
        lines.append(line(f"Artikel {n}", quantity, str(price), draw(st.sampled_from(rates))))
    discounts = []
    if draw(st.booleans()):
        goods_rates = sorted({str(ln.vat_rate.normalize()) for ln in lines})
        rate = draw(st.sampled_from([None, *goods_rates]))  # a coupon at a rate with goods
        base = sum((ln.total_incl_vat for ln in lines if not rate or ln.vat_rate == D(rate)), D(0))
        amount = cents(base * D(draw(st.integers(1, 30))) / 100)
        discounts.append(
            OrderDiscount(
                description="Kortingscode",
                amount_incl_vat=amount,
                amount_excl_vat=excl(amount, rate or rates[0]),
                vat_rate=D(rate) if rate else None,
            )
        )

    def cost(name: str) -> Charge | None:
        if not draw(st.booleans()):
            return None
        amount = D(draw(st.integers(0, 1_500))) / 100
        rate = draw(st.sampled_from([None, *rates]))
        return Charge(
            description=name,
            amount_incl_vat=amount,
            amount_excl_vat=excl(amount, rate or rates[0]),
            vat_rate=D(rate) if rate else None,
        )

    return make_order(
        order_id=str(draw(st.integers(1000, 99_999))),
        country=country,
        vat_number=vat_number,
        company_name="Bedrijf B.V." if vat_number else None,
        lines=lines,
        discounts=discounts,
        shipping=cost("Verzendkosten"),
        payment_costs=cost("Betaalkosten"),
        paid=draw(st.booleans()),
    )


def stored(document, xml: bytes, order_id: str, plan, credit: bool) -> StoredDocument:
    sign = D(-1) if credit else D(1)
    return StoredDocument(
        id=f"{CONNECTION}|x|{document.number}",
        connection_id=CONNECTION,
        order_id=order_id,
        kind="credit_note" if credit else "invoice",
        number=document.number,
        reference=document.order_reference,
        revision=1,
        xml=xml,
        expected_total=plan.total_incl_vat * sign,
        expected_vat={r: v * sign for r, v in plan.vat_per_rate().items()},
        created_at=datetime(2026, 11, 20, tzinfo=UTC),
    )


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order=orders(), credit=st.booleans())
def test_every_random_order_becomes_a_valid_document_with_the_orders_figures(order, credit):
    plan = plan_of(order, SETTINGS)
    order_id = f"{CONNECTION}:{order.source_order_id}"
    context = context_for_order(order, SETTINGS, order_id=order_id)
    if credit:
        context = context.credit_for(order.order_number, date(2026, 12, 1))
    document = build_document(
        plan,
        context,
        number=f"{order.order_number}-C" if credit else order.order_number,
        options=SETTINGS.ledger.asperion,
        language=SETTINGS.merchant.language,
    )
    xml = write_document(document)
    report = validate(xml)
    assert report.ok, "\n".join(map(str, report.problems))
    back = read_totals(xml)
    assert back.kind == (DocumentKind.CREDIT_NOTE if credit else DocumentKind.INVOICE)
    assert back.totals.tax_inclusive == order.totals.total_incl_vat
    # What the runtime's check and the delivery's check compare, signed as booked.
    found = read_back(stored(document, xml, order_id, plan, credit))
    sign = D(-1) if credit else D(1)
    assert found.total_incl_vat == order.totals.total_incl_vat * sign
    expected_vat: dict[Decimal, Decimal] = {}
    for ln in plan.bookable_lines():
        expected_vat[ln.vat_rate] = expected_vat.get(ln.vat_rate, D(0)) + ln.vat_amount * sign
    assert found.vat_per_rate == expected_vat
    assert sum(found.vat_per_rate.values()) == plan.total_vat * sign

"""Random valid webshop orders -> documents that pass all three validations and read back
to the cent (hypothesis).

Orders mix goods at 21 %, 9 % and 0 %, whole and fractional quantities, prices with cents,
coupons per rate, shipping and payment costs, paid and unpaid orders, invoices and credit
notes. The shop's VAT per rate is computed the way shops do: either per rate on the summed
amounts or rounded per line and added up (which can be a few cents off taxable × rate).
The expected figures are computed here from the order, independently of the writer.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from koppel_ubl import (
    Allowance,
    Charge,
    Document,
    DocumentKind,
    Line,
    PaymentMeans,
    Totals,
    Validator,
    Vat,
    VatCategory,
    VatSubtotal,
    read_totals,
    write_document,
)

D = Decimal
CENT = D("0.01")
VATS = {
    "21": Vat(VatCategory.STANDARD, D("21")),
    "9": Vat(VatCategory.STANDARD, D("9")),
    "0": Vat(VatCategory.ZERO_RATED, D("0")),
}
EXAMPLES = int(os.environ.get("KOPPEL_HYPOTHESIS_EXAMPLES", "40"))


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Order:
    doc: Document
    taxable: dict[str, Decimal]
    vat: dict[str, Decimal]


quantities = st.one_of(
    st.integers(1, 12).map(D), st.sampled_from([D("0.5"), D("1.25"), D("2.75"), D("0.333")])
)
prices = st.integers(1, 40_000).map(lambda cents: D(cents) / 100)


@st.composite
def orders(draw: st.DrawFn, seller, buyer) -> Order:
    lines = []
    for number in range(1, draw(st.integers(1, 6)) + 1):
        rate = draw(st.sampled_from(sorted(VATS)))
        quantity, price = draw(quantities), draw(prices)
        net = _cents(quantity * price)
        lines.append(Line(str(number), f"Artikel {number}", quantity, price, net, VATS[rate]))
    rates = list(dict.fromkeys(line.vat.rate for line in lines))
    keys = [str(rate) for rate in rates]
    goods = {k: sum((ln.net_amount for ln in lines if str(ln.vat.rate) == k), D(0)) for k in keys}

    charges = []
    for reason in ("Verzendkosten", "Betaalkosten"):
        if draw(st.booleans()):
            amount = D(draw(st.integers(1, 1_500))) / 100
            charges.append(Charge(amount, VATS[draw(st.sampled_from(keys))], reason))
    allowances = []
    for key in keys:
        if draw(st.booleans()) and goods[key] >= CENT:
            amount = D(draw(st.integers(1, int(goods[key] * 100)))) / 100
            allowances.append(Allowance(amount, VATS[key], "Kortingscode"))

    per_line = draw(st.booleans())  # the shop rounded VAT per line, then added up
    taxable, vat = {}, {}
    for key in keys:
        rate = D(key) / 100
        parts = [ln.net_amount for ln in lines if str(ln.vat.rate) == key]
        parts += [c.amount for c in charges if str(c.vat.rate) == key]
        parts += [-a.amount for a in allowances if str(a.vat.rate) == key]
        taxable[key] = sum(parts, D(0))
        if per_line:
            vat[key] = sum((_cents(part * rate) for part in parts), D(0))
        else:
            vat[key] = _cents(taxable[key] * rate)

    kind = draw(st.sampled_from(DocumentKind))
    total = sum(taxable.values(), D(0)) + sum(vat.values(), D(0))
    doc = Document(
        kind=kind,
        number=f"2026-{draw(st.integers(1, 999_999)):06d}",
        issue_date=date(2026, 11, 20),
        due_date=date(2026, 12, 4),
        seller=seller,
        buyer=buyer,
        order_reference=f"WEB-{draw(st.integers(1, 99_999))}",
        invoice_reference="2026-000001" if kind is DocumentKind.CREDIT_NOTE else None,
        lines=tuple(lines),
        charges=tuple(charges),
        allowances=tuple(allowances),
        vat_subtotals=tuple(VatSubtotal(VATS[k], vat[k]) for k in keys),
        payment_means=PaymentMeans("58"),
        prepaid_amount=total if draw(st.booleans()) else D("0.00"),
    )
    return Order(doc, taxable, vat)


def test_random_orders_pass_all_validations_and_read_back_to_the_cent(
    samples, validator: Validator
) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(orders(samples.seller, samples.nl_business))
    def check(order: Order) -> None:
        doc = order.doc
        xml = write_document(doc)
        report = validator.validate(xml)
        assert report.problems == (), "\n".join(map(str, report.problems))

        back = read_totals(xml)
        lines = sum((ln.net_amount for ln in doc.lines), D(0))
        allowances = sum((a.amount for a in doc.allowances), D(0))
        charges = sum((c.amount for c in doc.charges), D(0))
        tax = sum(order.vat.values(), D(0))
        inclusive = lines - allowances + charges + tax
        assert back.totals == Totals(
            line_extension=lines,
            allowances=allowances,
            charges=charges,
            tax_exclusive=lines - allowances + charges,
            tax=tax,
            tax_inclusive=inclusive,
            prepaid=doc.prepaid_amount,
            payable=inclusive - doc.prepaid_amount,
        )
        assert [(str(v.vat.rate), v.taxable_amount, v.tax_amount) for v in back.vat] == [
            (key, order.taxable[key], order.vat[key]) for key in order.taxable
        ]
        assert (back.kind, back.number, back.order_reference) == (
            doc.kind,
            doc.number,
            doc.order_reference,
        )
        assert back.buyer.vat_number == doc.buyer.vat_number

    check()

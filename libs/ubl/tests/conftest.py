"""Shared fixtures: the official artefacts (fetched once per cache), a warm Validator, and
hand-made documents for each VAT situation Koppel writes."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from koppel_ubl import (
    Address,
    Allowance,
    ArtefactError,
    Artefacts,
    Buyer,
    Charge,
    Delivery,
    Document,
    DocumentKind,
    Line,
    PaymentMeans,
    Seller,
    Validator,
    Vat,
    VatCategory,
    VatSubtotal,
    ensure_artefacts,
)

D = Decimal
S21 = Vat(VatCategory.STANDARD, D("21"))
S9 = Vat(VatCategory.STANDARD, D("9"))
Z0 = Vat(VatCategory.ZERO_RATED, D("0"))
K0 = Vat(VatCategory.INTRA_COMMUNITY, D("0"))
G0 = Vat(VatCategory.EXPORT, D("0"))

SELLER = Seller(
    name="Koppel Testwinkel",
    address=Address("Keizersgracht 100", "Amsterdam", "1015 AA", "NL"),
    vat_number="NL000099998B57",
    kvk_number="12345678",
    iban="NL91ABNA0417164300",
    email="verkoop@testwinkel.example",
)
NL_BUSINESS = Buyer(
    name="Jan Jansen",
    company="Jansen Kantoorartikelen B.V.",
    address=Address("Oudegracht 12", "Utrecht", "3511 AB", "NL"),
    email="inkoop@jansen.example",
    vat_number="NL000099995B57",
    kvk_number="87654321",
)
NL_CONSUMER = Buyer(
    name="Petra de Vries",
    address=Address("Dorpsstraat 3", "Zwolle", "8011 AA", "NL"),
    email="petra@example.nl",
)


def base_invoice(**changes: object) -> Document:
    """Domestic NL B2B invoice: 21 % and 9 % goods, shipping split per rate, a coupon."""
    doc = Document(
        kind=DocumentKind.INVOICE,
        number="2026-000123",
        issue_date=date(2026, 11, 20),
        due_date=date(2026, 12, 4),
        seller=SELLER,
        buyer=NL_BUSINESS,
        order_reference="WEB-1001",
        lines=(
            Line("1", "Vulpen", D(2), D("24.95"), D("49.90"), S21, seller_item_id="VP-01"),
            Line("2", "Thee, 250 g", D(3), D("4.50"), D("13.50"), S9, ean="8712345678906"),
        ),
        charges=(Charge(D("3.90"), S21, "Verzendkosten"), Charge(D("1.05"), S9, "Verzendkosten")),
        allowances=(Allowance(D("5.00"), S21, "Kortingscode WELKOM"),),
        # 21 % of 48.80 = 10.248 -> 10.25; 9 % of 14.55 = 1.3095 -> 1.31
        vat_subtotals=(VatSubtotal(S21, D("10.25")), VatSubtotal(S9, D("1.31"))),
        payment_means=PaymentMeans("58", payment_id="2026-000123"),
        payment_terms="Betalen binnen 14 dagen",
        notes=("Webshop-bestelling WEB-1001",),
    )
    return replace(doc, **changes)  # type: ignore[arg-type]


def icp_invoice(**changes: object) -> Document:
    """Intra-Community supply of goods to a Belgian business: K, 0 %, buyer VAT number."""
    buyer = Buyer(
        name="Luc Peeters",
        company="Peeters BV",
        address=Address("Meir 50", "Antwerpen", "2000", "BE"),
        vat_number="BE0123456749",
    )
    doc = Document(
        kind=DocumentKind.INVOICE,
        number="2026-000124",
        issue_date=date(2026, 11, 20),
        seller=SELLER,
        buyer=buyer,
        order_reference="WEB-1002",
        lines=(Line("1", "Bureaulamp", D(4), D("39.95"), D("159.80"), K0),),
        charges=(Charge(D("6.95"), K0, "Verzendkosten"),),
        vat_subtotals=(VatSubtotal(K0, D("0.00"), exemption_reason="Intracommunautaire levering"),),
        delivery=Delivery(date=date(2026, 11, 19), address=buyer.address),
        payment_means=PaymentMeans("58"),
        prepaid_amount=D("166.75"),  # paid in the webshop
        notes=("Intracommunautaire levering, 0 % btw - btw-nummer afnemer: BE0123456749",),
    )
    return replace(doc, **changes)  # type: ignore[arg-type]


def export_invoice() -> Document:
    """Export of goods outside the EU (Switzerland): G, 0 %, exemption reason."""
    buyer = Buyer(
        name="Anna Muller",
        address=Address("Bahnhofstrasse 1", "Zurich", "8001", "CH"),
        email="anna@example.ch",
    )
    return Document(
        kind=DocumentKind.INVOICE,
        number="2026-000125",
        issue_date=date(2026, 11, 20),
        seller=SELLER,
        buyer=buyer,
        order_reference="WEB-1003",
        lines=(Line("1", "Kaasschaaf", D(1), D("19.95"), D("19.95"), G0),),
        charges=(Charge(D("12.50"), G0, "Verzendkosten buitenland"),),
        vat_subtotals=(VatSubtotal(G0, D("0.00"), exemption_reason="Export buiten de EU"),),
        delivery=Delivery(date=date(2026, 11, 19), address=buyer.address),
        payment_means=PaymentMeans("58"),
        prepaid_amount=D("32.45"),
    )


def oss_invoice() -> Document:
    """Distance sale to a Belgian consumer under OSS: S with Belgium's 21 % and a note."""
    buyer = Buyer(
        name="Sofie Janssens",
        address=Address("Veldstraat 8", "Gent", "9000", "BE"),
        email="sofie@example.be",
    )
    return Document(
        kind=DocumentKind.INVOICE,
        number="2026-000126",
        issue_date=date(2026, 11, 20),
        seller=SELLER,
        buyer=buyer,
        order_reference="WEB-1004",
        lines=(
            Line("1", "Notitieboek", D(3), D("8.26"), D("24.78"), S21),
            Line("2", "Pennenset", D(1), D("12.40"), D("12.40"), S21),
        ),
        charges=(Charge(D("4.13"), S21, "Verzendkosten"),),
        # The shop rounded per line: 5.20 + 2.60 + 0.87 = 8.67; 21 % of 41.31 = 8.6751 -> 8.68
        vat_subtotals=(VatSubtotal(S21, D("8.67")),),
        delivery=Delivery(date=date(2026, 11, 19), address=buyer.address),
        payment_means=PaymentMeans("58"),
        prepaid_amount=D("49.98"),
        notes=("Afstandsverkoop: Belgische btw (21 %) via de OSS-Unieregeling",),
    )


def credit_note() -> Document:
    """Credit note for one returned pen of base_invoice(), referencing that invoice."""
    return Document(
        kind=DocumentKind.CREDIT_NOTE,
        number="2026-C-000007",
        issue_date=date(2026, 11, 27),
        seller=SELLER,
        buyer=NL_BUSINESS,
        order_reference="WEB-1001",
        invoice_reference="2026-000123",
        lines=(Line("1", "Vulpen (retour)", D(1), D("24.95"), D("24.95"), S21),),
        vat_subtotals=(VatSubtotal(S21, D("5.24")),),
        payment_means=PaymentMeans("58"),
        notes=("Retour bij bestelling WEB-1001",),
    )


@pytest.fixture(scope="session")
def artefacts() -> Artefacts:
    """The official artefacts: fetched on the first run (never skipped), cached afterwards."""
    started = time.monotonic()
    try:
        found = ensure_artefacts(progress=print)
    except ArtefactError as error:
        pytest.fail(
            "koppel-ubl needs the UBL/EN 16931/NLCIUS validation artefacts from Maven Central "
            f"and could not get them: {error}",
            pytrace=False,
        )
    print(f"artefacts ready in {time.monotonic() - started:.2f}s: {found.root}")
    return found


@pytest.fixture(scope="session")
def validator(artefacts: Artefacts) -> Validator:
    """One Validator for the session: each XSLT is compiled once."""
    warm = Validator(artefacts)
    started = time.monotonic()
    warm.warm_up()
    print(f"schema + XSLTs compiled in {time.monotonic() - started:.2f}s")
    return warm


class Samples:
    """The hand-made documents and parties, for tests (which cannot import conftest)."""

    S21, S9, Z0, K0, G0 = S21, S9, Z0, K0, G0
    seller = SELLER
    nl_business = NL_BUSINESS
    nl_consumer = NL_CONSUMER
    base_invoice = staticmethod(base_invoice)
    icp_invoice = staticmethod(icp_invoice)
    export_invoice = staticmethod(export_invoice)
    oss_invoice = staticmethod(oss_invoice)
    credit_note = staticmethod(credit_note)


@pytest.fixture(scope="session")
def samples() -> type[Samples]:
    return Samples

"""A booking plan + its document context → a `koppel_ubl.Document` (Invoice or CreditNote).

One document line per goods line of the plan (one per VAT rate, the shop's item names in
its description), order discounts as document allowances, shipping and payment costs as
document charges — the plan's amounts as they are, so the document's total and VAT per
rate are the plan's, which are the order's to the cent. Nothing is recomputed here.

VAT categories come from the connection's mapping: for Asperion, `vat_code` of each
`ledger.booking.vat_accounts` entry is the UBL VAT category (UNCL5305) of that rate and
treatment: `S` for 21 %, 9 % and OSS rates, `Z` for Dutch 0 %, `K` for intra-Community
supplies, `G` for exports (`E`, `AE` where a merchant needs them). It is checked against
the rate and the treatment before anything is written (see `category_of`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from koppel_contracts import AsperionOptions, Language, SellerParty, VatTreatment
from koppel_ledger import RecordedLine, RecordedPlan, Refusal
from koppel_ubl import (
    Address,
    Allowance,
    Buyer,
    Charge,
    Delivery,
    Document,
    DocumentKind,
    Line,
    PaymentMeans,
    Seller,
    Specification,
    Vat,
    VatCategory,
    VatSubtotal,
)

from .context import DocumentContext, Party

ZERO = Decimal("0.00")
CATEGORIES = {category.value: category for category in VatCategory}
# The treatment decides the category where the law does (vat-nl-eu.md §8).
REQUIRED = {
    VatTreatment.ICP.value: VatCategory.INTRA_COMMUNITY,
    VatTreatment.EXPORT.value: VatCategory.EXPORT,
}


def rate_text(rate: Decimal) -> str:
    normal = rate.normalize()
    return format(normal.quantize(Decimal(1)) if normal == normal.to_integral() else normal, "f")


def category_of(line: RecordedLine, treatment: str) -> VatCategory:
    """The UBL category the mapping gives this line's rate; Refusal when it cannot be right."""
    code = line.vat_code.strip().upper()
    rate = rate_text(line.vat_rate)
    category = CATEGORIES.get(code)
    if category is None:
        raise Refusal("unknown_vat_category", vat_code=line.vat_code, rate=rate)
    if category.requires_zero_rate and line.vat_rate != 0:
        raise Refusal("vat_code_rate_mismatch", rate=rate, vat_code=code, percentage="0")
    if not category.requires_zero_rate and line.vat_rate == 0:
        raise Refusal("vat_code_rate_mismatch", rate=rate, vat_code=code, percentage="> 0")
    required = REQUIRED.get(treatment)
    if (required is not None and category is not required) or (
        required is None and category in REQUIRED.values()
    ):
        raise Refusal(
            "vat_category_treatment",
            vat_code=code,
            rate=rate,
            treatment=treatment,
            expected=required.value if required else "S / Z",
        )
    return category


def check_categories(plan: RecordedPlan, treatment: str) -> dict[Decimal, VatCategory]:
    """The category per rate of every line worth writing (raises Refusal)."""
    return {ln.vat_rate: category_of(ln, treatment) for ln in plan.bookable_lines()}


_TEXTS: dict[str, dict[object, str]] = {
    "nl": {
        "order": "Bestelling {order}",
        "credit": "Creditnota bij factuur {invoice} (bestelling {order})",
        "paid": "Betaald bij de bestelling ({method})",
        "paid_plain": "Betaald bij de bestelling",
        "term": "Te betalen binnen {days} dagen",
        "refund": "Creditering van factuur {invoice}",
        VatCategory.INTRA_COMMUNITY: "Intracommunautaire levering",
        VatCategory.EXPORT: "Export buiten de EU",
        VatCategory.EXEMPT: "Vrijgesteld van btw",
        VatCategory.REVERSE_CHARGE: "Btw verlegd",
    },
    "en": {
        "order": "Order {order}",
        "credit": "Credit note for invoice {invoice} (order {order})",
        "paid": "Paid when ordering ({method})",
        "paid_plain": "Paid when ordering",
        "term": "Payable within {days} days",
        "refund": "Credit for invoice {invoice}",
        VatCategory.INTRA_COMMUNITY: "Intra-Community supply",
        VatCategory.EXPORT: "Export outside the EU",
        VatCategory.EXEMPT: "Exempt from VAT",
        VatCategory.REVERSE_CHARGE: "Reverse charge",
    },
}


def _address(party: Party | SellerParty) -> Address:
    if isinstance(party, SellerParty):
        return Address(party.street, party.city, party.postal_code, party.country_code)
    return Address(party.street, party.city, party.postal_code, party.country)


def seller_of(party: SellerParty) -> Seller:
    return Seller(
        name=party.name,
        address=_address(party),
        vat_number=party.vat_number,
        kvk_number=party.kvk_number,
        iban=party.iban,
        email=party.email,
    )


def buyer_of(party: Party) -> Buyer:
    return Buyer(
        name=party.name,
        address=_address(party),
        company=party.company,
        email=party.email,
        vat_number=party.vat_number,
    )


def specification_for(seller: SellerParty, buyer: Party) -> Specification:
    """NLCIUS where it can hold, plain EN 16931 otherwise. NLCIUS needs the seller's KvK
    number (BR-NL-1) and, for a buyer in the Netherlands, the buyer's KvK or OIN
    (BR-NL-10), which no shop order carries: documents for Dutch buyers claim EN 16931."""
    if seller.kvk_number and buyer.country != "NL":
        return Specification.NLCIUS
    return Specification.EN16931


@dataclass
class _Parts:
    lines: list[Line]
    allowances: list[Allowance]
    charges: list[Charge]
    vat: dict[Vat, Decimal]


def _parts(plan: RecordedPlan, categories: dict[Decimal, VatCategory]) -> _Parts:
    parts = _Parts([], [], [], {})
    extra: list[RecordedLine] = []
    for ln in plan.bookable_lines():
        vat = Vat(categories[ln.vat_rate], ln.vat_rate)
        parts.vat[vat] = parts.vat.get(vat, ZERO) + ln.vat_amount
        amount = ln.amount_excl_vat
        if ln.kind == "goods":
            _add_line(parts, ln, vat)
        elif ln.kind == "discount":
            if amount <= 0:
                parts.allowances.append(Allowance(-amount, vat, ln.description))
            else:
                parts.charges.append(Charge(amount, vat, ln.description))
        else:
            extra.append(ln)
    for ln in extra:  # shipping, payment costs: charges, or lines when there are no goods
        vat = Vat(categories[ln.vat_rate], ln.vat_rate)
        if not parts.lines:
            _add_line(parts, ln, vat)
        elif ln.amount_excl_vat >= 0:
            parts.charges.append(Charge(ln.amount_excl_vat, vat, ln.description))
        else:
            parts.allowances.append(Allowance(-ln.amount_excl_vat, vat, ln.description))
    return parts


def _add_line(parts: _Parts, ln: RecordedLine, vat: Vat) -> None:
    # A net price may not be negative (BR-27): a negative amount is one unit taken back.
    quantity = Decimal(1) if ln.amount_excl_vat >= 0 else Decimal(-1)
    number = str(len(parts.lines) + 1)
    price = abs(ln.amount_excl_vat)
    parts.lines.append(Line(number, ln.description, quantity, price, ln.amount_excl_vat, vat))


def build_document(
    plan: RecordedPlan,
    context: DocumentContext,
    *,
    number: str,
    options: AsperionOptions,
    language: Language,
) -> Document:
    """The UBL document of a plan (raises Refusal for a mapping that cannot be written)."""
    if options.seller is None:
        raise Refusal("settings_incomplete", detail="ledger.asperion.seller")
    texts = _TEXTS[language.value]
    categories = check_categories(plan, context.treatment)
    parts = _parts(plan, categories)
    subtotals = tuple(
        VatSubtotal(vat, amount, exemption_reason=_reason(vat, context, texts))
        for vat, amount in parts.vat.items()
    )
    total = sum((ln.amount_excl_vat + ln.vat_amount for ln in plan.bookable_lines()), ZERO)
    order = context.order_number
    due_date = None
    if context.credit:
        notes = [texts["credit"].format(invoice=context.invoice_reference, order=order)]
        terms = texts["refund"].format(invoice=context.invoice_reference)
    else:
        notes = [texts["order"].format(order=order)]
        if context.paid:
            method = context.payment_method
            terms = texts["paid"].format(method=method) if method else texts["paid_plain"]
        else:
            days = options.payment_term_days
            terms = texts["term"].format(days=days)
            due_date = context.issue_date + timedelta(days=days)
    if context.vat_note:
        notes.append(context.vat_note)
    delivery = Delivery(
        date=context.delivery_date,
        address=_address(context.delivery) if context.delivery else None,
    )
    seller = options.seller
    return Document(
        kind=DocumentKind.CREDIT_NOTE if context.credit else DocumentKind.INVOICE,
        number=number,
        issue_date=context.issue_date,
        seller=seller_of(seller),
        buyer=buyer_of(context.buyer),
        lines=tuple(parts.lines),
        vat_subtotals=subtotals,
        order_reference=order,
        due_date=due_date,
        payment_terms=terms,
        currency=context.currency,
        allowances=tuple(parts.allowances),
        charges=tuple(parts.charges),
        payment_means=PaymentMeans("58", payment_id=number) if seller.iban else None,
        notes=tuple(notes),
        delivery=delivery,
        prepaid_amount=total if context.paid and not context.credit else ZERO,
        invoice_reference=context.invoice_reference,
        specification=specification_for(seller, context.buyer),
    )


def _reason(vat: Vat, context: DocumentContext, texts: dict[object, str]) -> str | None:
    """The exemption reason (BT-120) the zero-rate categories need (BR-IC/G/E/AE-10): the
    plan's legal mention where there is one (it names the buyer's VAT number for ICP)."""
    if vat.category in (VatCategory.STANDARD, VatCategory.ZERO_RATED):
        return None  # S has none; Z must have none (BR-Z-10)
    return context.vat_note or texts[vat.category]

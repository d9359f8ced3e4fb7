"""What a document needs beyond the booking plan: the buyer, the VAT treatment, dates and
payment, taken from the order once (`prepare`) and kept in the `LedgerDoc`'s placement.

A document is always rebuilt from its `LedgerDoc` alone (plan + this context): `create`,
`replace` (which the runtime calls with the plan of the new revision and no order) and a
credit note (which mirrors the document it cancels) need nothing else, so every document
Koppel writes can be written again, byte for byte.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import Any

from koppel_bookkeeping import plan_booking
from koppel_contracts import Address, CanonicalOrder, ConnectionSettings, split_order_key
from koppel_ledger import CollectiveDebtor, Refusal, choose_debtor, customer_name, document_date

# An address part the collective debtor has none of. EN 16931 needs only the buyer's country
# (BT-55); koppel_ubl writes street, city and postal code always, so they say "unknown".
UNKNOWN = "-"


@dataclass(frozen=True)
class Party:
    """A buyer or deliver-to address as the document prints it."""

    name: str
    street: str
    city: str
    postal_code: str
    country: str
    company: str | None = None
    email: str | None = None
    vat_number: str | None = None


@dataclass(frozen=True)
class DocumentContext:
    kind: str  # "invoice" | "credit_note"
    order_id: str  # the runtime's order key (connection:order_ref)
    order_number: str
    issue_date: date
    treatment: str  # koppel_contracts.VatTreatment value
    country: str  # where the goods went
    buyer: Party
    delivery: Party | None
    delivery_date: date
    paid: bool
    payment_method: str | None
    currency: str
    vat_note: str | None
    invoice_reference: str | None = None  # a credit note: the invoice it corrects
    collective: bool = False  # the buyer is the connection's collective debtor

    @property
    def credit(self) -> bool:
        return self.kind == "credit_note"

    def to_placement(self) -> dict[str, Any]:
        data = asdict(self)
        data["issue_date"] = self.issue_date.isoformat()
        data["delivery_date"] = self.delivery_date.isoformat()
        return data

    @classmethod
    def from_placement(cls, data: dict[str, Any]) -> DocumentContext:
        values = dict(data)
        values["issue_date"] = date.fromisoformat(values["issue_date"])
        values["delivery_date"] = date.fromisoformat(values["delivery_date"])
        values["buyer"] = Party(**values["buyer"])
        values["delivery"] = Party(**values["delivery"]) if values.get("delivery") else None
        return cls(**values)

    def credit_for(self, invoice_number: str, issue_date: date) -> DocumentContext:
        """The context of a credit note that cancels the document with this context."""
        return replace(
            self, kind="credit_note", issue_date=issue_date, invoice_reference=invoice_number
        )


def _street(address: Address) -> str | None:
    if address.street:
        number = " ".join(p for p in (address.house_number, address.house_number_suffix) if p)
        return f"{address.street} {number}".strip()
    return address.address_line


def _party(address: Address, name: str, **extra: str | None) -> Party | None:
    street = _street(address)
    if not (street and address.city and address.postal_code):
        return None
    return Party(
        name=name,
        street=street,
        city=address.city,
        postal_code=address.postal_code,
        country=address.country_code,
        **extra,
    )


def collective_buyer(choice: CollectiveDebtor, vat_number: str | None = None) -> Party:
    """The collective debtor as buyer: its name and country, nothing of the consumer. The
    anonymous debtor of an erased customer keeps a business buyer's VAT number (as
    `koppel_privacy.anonymous` does): an ICP document needs it (BR-IC-02)."""
    return Party(
        name=choice.label(),
        street=UNKNOWN,
        city=UNKNOWN,
        postal_code=UNKNOWN,
        country=choice.country_code,
        vat_number=vat_number,
    )


def shipped_to_country(buyer: Party) -> Party:
    """The anonymous debtor's deliver-to: the country alone. ICP documents must state it
    (BR-IC-12); it is where the goods went, nothing of the person."""
    return replace(buyer, vat_number=None)


def context_for_order(
    order: CanonicalOrder, settings: ConnectionSettings, *, order_id: str
) -> DocumentContext:
    """The invoice context of an order revision. Raises Refusal when the order has no
    complete billing address (the document's buyer needs street, city and postal code)."""
    choice = choose_debtor(
        order,
        settings.ledger.booking,
        connection_id=split_order_key(order_id)[0],
        order_key=order_id,
        shop=settings.shop.system,
    )
    if isinstance(choice, CollectiveDebtor):
        if not order.sealed:
            return _context(order, settings, order_id, collective_buyer(choice), None, True)
        # An erased customer's order (revealed, yet still sealed): the anonymous debtor.
        buyer = collective_buyer(choice, order.customer.vat_number)
        return _context(order, settings, order_id, buyer, shipped_to_country(buyer), True)
    # Every other choice writes the buyer the order names: a file carries no debtor number
    # (so a fixed debtor does not apply) and needs no e-mail to name the buyer.
    customer = order.customer
    person = " ".join(p for p in (customer.first_name, customer.last_name) if p)
    name = person or order.billing_address.full_name or customer_name(order)
    company = customer.company_name or order.billing_address.company_name
    buyer = _party(
        order.billing_address,
        name,
        company=company,
        email=customer.email,
        vat_number=customer.vat_number,
    )
    if buyer is None:
        raise Refusal("buyer_address_incomplete", order_number=order.order_number)
    shipped_to = order.shipping_address or order.billing_address
    delivery = _party(shipped_to, shipped_to.full_name or name)
    return _context(order, settings, order_id, buyer, delivery, False)


def _context(
    order: CanonicalOrder,
    settings: ConnectionSettings,
    order_id: str,
    buyer: Party,
    delivery: Party | None,
    collective: bool,
) -> DocumentContext:
    # The same plan the runtime booked (pure, cheap): its treatment and the legal mention.
    plan = plan_booking(order, settings.ledger.booking, language=settings.merchant.language)
    day = document_date(order)
    return DocumentContext(
        kind="invoice",
        order_id=order_id,
        order_number=order.order_number,
        issue_date=day,
        treatment=plan.treatment.value,
        country=plan.country_code,
        buyer=buyer,
        delivery=delivery,
        delivery_date=day,
        paid=order.paid,
        payment_method=order.payment_method,
        currency=order.currency,
        vat_note=plan.vat_note,
        collective=collective,
    )

""" "Test verbinding" for a file ledger: there is no login and there are no accounts to list.
What can be wrong is what goes into every document: the seller party (a VAT number the
official rules refuse, a missing address) and the VAT categories the rates are mapped to.
So the test writes one sample invoice — a domestic consumer order of today over the
connection's mapped rates — with the connection's settings and runs it through the same
validation as every real document (XSD, EN 16931, NLCIUS). Nothing is stored."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from koppel_bookkeeping import BookingRefused, plan_booking
from koppel_contracts import (
    CanonicalOrder,
    Choice,
    ConnectionSettings,
    OrderEvent,
    OrderEventKind,
    SourceSystem,
    VatTreatment,
    order_content_hash,
    order_event_id,
    round_cents,
)
from koppel_ledger import DraftRequest, LedgerDescription, Op, RecordedPlan, Refusal
from koppel_ubl import VatCategory

if TYPE_CHECKING:
    from .adapter import AsperionAdapter

SAMPLE_CONNECTION = "connection-test"


def category_choices() -> list[Choice]:
    # S carries the rate itself (21, 9, an OSS country's); every other category is 0 %.
    return [
        Choice(
            code=c.value,
            name=c.name.replace("_", " ").lower(),
            percentage=Decimal(0) if c.requires_zero_rate else None,
        )
        for c in VatCategory
    ]


def sample_order(rates: list[Decimal]) -> CanonicalOrder:
    """A paid Dutch consumer order of today: one line of 10.00 incl. VAT per rate."""
    now = datetime.now(UTC)
    lines = []
    for rate in rates:
        excl = round_cents(Decimal("10.00") * 100 / (100 + rate))
        lines.append(
            {
                "description": f"Voorbeeld {rate.normalize():f}%",
                "quantity": "1",
                "unit_price_excl_vat": excl,
                "unit_price_incl_vat": "10.00",
                "vat_rate": rate,
                "total_excl_vat": excl,
                "total_incl_vat": "10.00",
            }
        )
    excl_total = sum((Decimal(str(x["total_excl_vat"])) for x in lines), Decimal(0))
    incl_total = Decimal("10.00") * len(lines)
    return CanonicalOrder.model_validate(
        {
            "source_order_id": "TEST-1",
            "order_number": "TEST-1",
            "status": "processing",
            "paid": True,
            "paid_at": now,
            "placed_at": now,
            "currency": "EUR",
            "prices_include_vat": True,
            "customer": {"email": "test@example.nl", "first_name": "Test", "last_name": "Klant"},
            "billing_address": {
                "full_name": "Test Klant",
                "street": "Teststraat",
                "house_number": "1",
                "postal_code": "1234 AB",
                "city": "Utrecht",
                "country_code": "NL",
            },
            "lines": lines,
            "totals": {
                "total_excl_vat": excl_total,
                "total_vat": incl_total - excl_total,
                "total_incl_vat": incl_total,
            },
        }
    )


def sample_request(settings: ConnectionSettings) -> DraftRequest | None:
    booking = settings.ledger.booking
    rates = sorted(
        {m.vat_rate for m in booking.vat_accounts if m.treatment is VatTreatment.DOMESTIC}
    )
    if not rates:
        return None
    order = sample_order(rates)
    digest = order_content_hash(order)
    kind = OrderEventKind.CREATED
    event = OrderEvent(
        event_id=order_event_id(SAMPLE_CONNECTION, "TEST-1", kind, digest, 1),
        occurred_at=order.placed_at,
        connection_id=SAMPLE_CONNECTION,
        source_system=SourceSystem.KOPPEL,
        kind=kind,
        order_ref="TEST-1",
        revision=1,
        content_hash=digest,
        order=order,
    )
    plan = plan_booking(order, booking, language=settings.merchant.language)
    return DraftRequest(
        op=Op.INVOICE,
        order_id=f"{SAMPLE_CONNECTION}:TEST-1",
        event=event,
        revision=1,
        plan=RecordedPlan.of(plan, settings.merchant.language),
    )


async def describe(adapter: AsperionAdapter, settings: ConnectionSettings) -> LedgerDescription:
    refusals: list[Refusal] = []
    try:
        request = sample_request(settings)
    except BookingRefused as refused:
        refusals.append(Refusal(refused.reason_code, **refused.params))
        request = None
    if request is not None:
        session = adapter.session(SAMPLE_CONNECTION, settings)
        try:
            await session.prepare(request, number="TEST-1")  # writes and validates only
        except Refusal as refusal:
            refusals.append(refusal)
    return LedgerDescription(vat_codes=category_choices(), refusals=refusals)

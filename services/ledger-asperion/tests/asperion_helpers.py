"""Shared pieces of the ledger-asperion tests: a demo connection, orders per VAT situation."""

from __future__ import annotations

from typing import Any

from koppel_contracts import (
    AsperionOptions,
    BookingOptions,
    ConnectionSettings,
    ConnectionSettingsEvent,
    LedgerConnection,
    Merchant,
    ShopConnection,
)
from koppel_ledger_asperion.demo import demo_asperion_options, demo_booking

CONNECTION = "shop-asperion"


def demo_settings(
    *,
    language: str = "nl",
    booking: BookingOptions | None = None,
    asperion: AsperionOptions | None = None,
    merchant: str = "Koffie & Co",
    **options: Any,
) -> ConnectionSettings:
    return ConnectionSettings(
        merchant=Merchant(name=merchant, contact_email="shop@example.nl", language=language),
        shop=ShopConnection(system="ccvshop", base_url="https://shop.example.nl"),
        ledger=LedgerConnection(
            system="asperion",
            base_url="https://asperion.nl",
            booking=booking or demo_booking(),
            asperion=asperion or demo_asperion_options(**options),
        ),
    )


def settings_event(
    settings: ConnectionSettings, version: int = 1, connection_id: str = CONNECTION
) -> ConnectionSettingsEvent:
    return ConnectionSettingsEvent.of(connection_id, settings, version)


def hand_made_invoice(number: str, order_reference: str) -> bytes:
    """A valid UBL invoice written outside Koppel's mapping (someone else's document)."""
    from datetime import date
    from decimal import Decimal

    from koppel_ledger_asperion.mapping import seller_of
    from koppel_ubl import (
        Address,
        Buyer,
        Document,
        DocumentKind,
        Line,
        Specification,
        Vat,
        VatCategory,
        VatSubtotal,
        write_document,
    )

    s21 = Vat(VatCategory.STANDARD, Decimal(21))
    return write_document(
        Document(
            kind=DocumentKind.INVOICE,
            number=number,
            issue_date=date(2026, 11, 1),
            seller=seller_of(demo_asperion_options().seller),
            buyer=Buyer("Iemand Anders", Address("Weg 1", "Zwolle", "8011 AA", "NL")),
            lines=(Line("1", "Met de hand", Decimal(1), Decimal("10"), Decimal("10.00"), s21),),
            vat_subtotals=(VatSubtotal(s21, Decimal("2.10")),),
            order_reference=order_reference,
            payment_terms="Betaald",
            specification=Specification.EN16931,
        )
    )


def plan_of(order, settings: ConnectionSettings):
    """The plan exactly as the runtime records it (`Booking.plan`)."""
    from koppel_bookkeeping import plan_booking
    from koppel_ledger import RecordedPlan

    booking = settings.ledger.booking
    return RecordedPlan.of(plan_booking(order, booking, language=settings.merchant.language))


def invoice_of(order, settings: ConnectionSettings, number: str | None = None):
    """The UBL document ledger-asperion writes for an order's first revision."""
    from koppel_ledger_asperion.context import context_for_order
    from koppel_ledger_asperion.mapping import build_document

    context = context_for_order(order, settings, order_id=f"{CONNECTION}:{order.source_order_id}")
    return build_document(
        plan_of(order, settings),
        context,
        number=number or order.order_number,
        options=settings.ledger.asperion,
        language=settings.merchant.language,
    )

"""Realistic canonical orders and events for tests across the workspace."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from koppel_contracts import (
    Address,
    CanonicalOrder,
    Charge,
    Customer,
    OrderDiscount,
    OrderEvent,
    OrderEventKind,
    OrderLine,
    OrderStatus,
    OrderTotals,
    SourceSystem,
    order_content_hash,
    order_event_id,
    round_cents,
)


def line(
    description: str,
    quantity: str,
    unit_price_incl_vat: str,
    vat_rate: str,
    *,
    sku: str | None = None,
) -> OrderLine:
    """A line from its incl-VAT unit price, the way Dutch B2C shops store prices."""
    qty = Decimal(quantity)
    unit_incl = Decimal(unit_price_incl_vat)
    rate = Decimal(vat_rate)
    unit_excl = round_cents(unit_incl * 100 / (100 + rate))
    return OrderLine(
        sku=sku or description.lower().replace(" ", "-")[:20],
        description=description,
        quantity=qty,
        unit_price_incl_vat=unit_incl,
        unit_price_excl_vat=unit_excl,
        vat_rate=rate,
        total_incl_vat=round_cents(qty * unit_incl),
        total_excl_vat=round_cents(qty * unit_excl),
    )


def charge(description: str, amount_incl_vat: str, vat_rate: str = "21") -> Charge:
    incl = Decimal(amount_incl_vat)
    rate = Decimal(vat_rate)
    return Charge(
        description=description,
        amount_incl_vat=incl,
        amount_excl_vat=round_cents(incl * 100 / (100 + rate)),
        vat_rate=rate,
    )


def make_order(
    *,
    order_id: str = "1001",
    order_number: str | None = None,
    email: str = "jan@example.nl",
    country: str = "NL",
    lines: list[OrderLine] | None = None,
    discounts: list[OrderDiscount] | None = None,
    shipping: Charge | None = None,
    payment_costs: Charge | None = None,
    company_name: str | None = None,
    vat_number: str | None = None,
    paid: bool = True,
    status: OrderStatus = OrderStatus.PROCESSING,
    placed_at: datetime | None = None,
    **overrides: Any,
) -> CanonicalOrder:
    lines = lines or [line("Koffiebonen 1kg", "2", "24.95", "9"), line("Mok", "1", "12.10", "21")]
    discounts = discounts or []
    charges = [c for c in (shipping, payment_costs) if c is not None]
    incl = (
        sum((ln.total_incl_vat for ln in lines), Decimal(0))
        - sum((d.amount_incl_vat for d in discounts), Decimal(0))
        + sum((c.amount_incl_vat for c in charges), Decimal(0))
    )
    excl = (
        sum((ln.total_excl_vat for ln in lines), Decimal(0))
        - sum((d.amount_excl_vat for d in discounts), Decimal(0))
        + sum((c.amount_excl_vat for c in charges), Decimal(0))
    )
    placed = placed_at or datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
    data: dict[str, Any] = {
        "source_order_id": order_id,
        "order_number": order_number or f"WEB-{order_id}",
        "status": status,
        "source_status": "2",
        "paid": paid,
        "paid_at": placed if paid else None,
        "placed_at": placed,
        "currency": "EUR",
        "prices_include_vat": True,
        "customer": Customer(
            email=email,
            first_name="Jan",
            last_name="Jansen",
            company_name=company_name,
            vat_number=vat_number,
            phone="0612345678",
        ),
        "billing_address": Address(
            company_name=company_name,
            full_name="Jan Jansen",
            street="Dorpsstraat",
            house_number="1",
            postal_code="1234 AB",
            city="Utrecht",
            country_code=country,
        ),
        "payment_method": "ideal",
        "lines": lines,
        "discounts": discounts,
        "shipping": shipping,
        "payment_costs": payment_costs,
        "totals": OrderTotals(total_incl_vat=incl, total_excl_vat=excl, total_vat=incl - excl),
    }
    data.update(overrides)
    return CanonicalOrder(**data)


def make_order_event(
    order: CanonicalOrder | None = None,
    *,
    connection_id: str = "conn-demo",
    kind: OrderEventKind = OrderEventKind.CREATED,
    revision: int = 1,
    order_ref: str | None = None,
    source_system: SourceSystem = SourceSystem.CCVSHOP,
) -> OrderEvent:
    order = order or make_order()
    ref = order_ref or order.source_order_id
    digest = order_content_hash(order)
    return OrderEvent(
        event_id=order_event_id(connection_id, ref, kind, digest, revision),
        occurred_at=datetime.now(UTC),
        connection_id=connection_id,
        source_system=source_system,
        correlation_id=f"{connection_id}:{ref}",
        kind=kind,
        order_ref=ref,
        revision=revision,
        content_hash=digest,
        order=order,
    )

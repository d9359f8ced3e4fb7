"""The books after the run: every order exactly one invoice (Octopus) or sales booking
(SnelStart), its total the order's; and the Octopus sandbox's own call counter."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from koppel_sandbox_octopus import DEMO, OctopusControl
from koppel_sandbox_snelstart import DEMO as SNELSTART
from koppel_sandbox_snelstart import SnelStartControl


async def octopus_calls(octopus: OctopusControl) -> int:
    return sum((await octopus.calls(DEMO.dossier_id)).values())


async def verify_books(octopus: OctopusControl, expected: dict[str, Decimal]) -> dict[str, Any]:
    """Every order exactly one invoice; each invoice's total equals its order's; sums equal."""
    invoices = await octopus.invoices(DEMO.dossier_id)
    per_reference: dict[str, list[Decimal]] = {}
    for invoice in invoices:
        total = Decimal(str(invoice["_sandbox"]["totalInclVat"]))
        per_reference.setdefault(str(invoice.get("reference")), []).append(total)
    missing = [r for r in expected if r not in per_reference]
    twice = [r for r, totals in per_reference.items() if r in expected and len(totals) > 1]
    unexpected = [r for r in per_reference if r not in expected]
    differ = [
        r
        for r, totals in per_reference.items()
        if r in expected and len(totals) == 1 and totals[0] != expected[r]
    ]
    orders_total = sum(expected.values(), Decimal(0))
    booked_total = sum(
        (t for r, totals in per_reference.items() if r in expected for t in totals), Decimal(0)
    )
    return {
        "orders": len(expected),
        "invoices": len(invoices),
        "missing": len(missing),
        "booked_more_than_once": len(twice),
        "unexpected_invoices": len(unexpected),
        "total_differs": len(differ),
        "orders_total": str(orders_total),
        "booked_total": str(booked_total),
        "ok": not (missing or twice or unexpected or differ) and orders_total == booked_total,
        "examples": {"missing": missing[:5], "twice": twice[:5], "differ": differ[:5]},
    }


async def verify_snelstart_books(
    snelstart: SnelStartControl, expected: dict[str, Decimal]
) -> dict[str, Any]:
    """Every order exactly one sales booking (invoice number = order number), totals equal."""
    bookings = await snelstart.bookings(SNELSTART.main.administratie_id)
    per_number: dict[str, list[Decimal]] = {}
    for booking in bookings:
        number = str(booking["factuurnummer"])
        per_number.setdefault(number, []).append(Decimal(str(booking["factuurbedrag"])))
    missing = [n for n in expected if n not in per_number]
    twice = [n for n, totals in per_number.items() if n in expected and len(totals) > 1]
    differ = [
        n
        for n, totals in per_number.items()
        if n in expected and len(totals) == 1 and totals[0] != expected[n]
    ]
    return {
        "orders": len(expected),
        "bookings": len(bookings),
        "missing": len(missing),
        "booked_more_than_once": len(twice),
        "total_differs": len(differ),
        "ok": not (missing or twice or differ),
        "examples": {"missing": missing[:5], "twice": twice[:5], "differ": differ[:5]},
    }

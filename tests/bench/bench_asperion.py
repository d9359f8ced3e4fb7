"""Phase 7 of the benchmark: replay into Asperion, the day's delivery made on request, and
the books read back from the sealed ZIPs (README.md, "Asperion")."""

from __future__ import annotations

import io
import time
import zipfile
from decimal import Decimal
from typing import Any

import httpx
from bench_cpu import CpuMeter
from bench_load import historic_orders, replay
from bench_observe import Bookings, RssSampler, console, cpu_ms_per_order, ledger_cpu
from koppel_cli.asperion import read_deliveries, read_zip
from koppel_contracts import SHOP_ORDERS
from koppel_demo.demo_data import (
    ASPERION_CONNECTION_ID,
    demo_asperion_connection,
    publish_demo_connection,
)
from koppel_demo.processes import ProcessGroup
from koppel_demo.system import SystemConfig, database_prefix
from koppel_ubl import DocumentKind, read_totals

# The chocolatier's scheduled delivery must not come during the phase: the bench makes it
# on request, to time it (any scheduled one would be counted by the books check all the same).
ASPERION_DELIVERY_TIME = "23:59"
# One delivery holds every pending document of the day, built in memory: a merchant's day is
# hundreds of orders, not the replay's N (see README.md, "Asperion").
ASPERION_DEFAULT_MAX = 10_000


async def asperion_phase(
    config: SystemConfig,
    group: ProcessGroup,
    bookings: Bookings,
    sampler: RssSampler,
    run: str,
    n: int,
    meter: CpuMeter | None = None,
) -> dict[str, Any]:
    """Replay N orders into ledger-asperion, make the delivery, check the books."""
    results: dict[str, Any] = {}
    connection = demo_asperion_connection(config, delivery_time=ASPERION_DELIVERY_TIME)
    await publish_demo_connection(config, connection, ASPERION_CONNECTION_ID)
    topic = config.isolation + SHOP_ORDERS.name
    warm = historic_orders(run, "warmchoc", 20, connection_id=ASPERION_CONNECTION_ID)
    await replay(config.kafka_bootstrap, topic, warm, bookings, "warm-up Asperion")
    orders = historic_orders(run, "choc", n, connection_id=ASPERION_CONNECTION_ID)
    cpu_before = ledger_cpu(group)
    every_before = meter.snapshot() if meter else None
    sampler.phase = "replay-asperion"
    outcome = await replay(config.kafka_bootstrap, topic, orders, bookings, "replay Asperion")
    cpu_booked = ledger_cpu(group)
    if meter and every_before:  # the replay alone, not the delivery after it
        meter.record(outcome, every_before, outcome["booked"], outcome["orders_per_s"])
    outcome["cpu_ms_per_order"] = {
        name: ms
        for name, ms in cpu_ms_per_order(cpu_before, cpu_booked, outcome["booked"]).items()
        if name == "ledger-asperion"
    }
    console.print(outcome)
    outcome["delivery"] = await asperion_delivery(config)
    sampler.phase = None
    delivered = outcome["delivery"]["documents"]
    outcome["delivery"]["cpu_ms_per_document"] = cpu_ms_per_order(
        cpu_booked, ledger_cpu(group), delivered
    ).get("ledger-asperion", 0.0)
    console.print(outcome["delivery"])
    results["asperion_replay"] = outcome
    results["asperion_books"] = await verify_asperion_books(
        config, {**warm.totals, **orders.totals}, {**warm.vat, **orders.vat}
    )
    console.print(results["asperion_books"])
    return results


async def asperion_delivery(config: SystemConfig) -> dict[str, Any]:
    """The day's delivery on request (the operator route): what is pending, in one ZIP,
    sealed, read back, mailed (to the system's SMTP catcher)."""
    url = f"{config.url(config.ports.ledger_asperion)}/deliveries/{ASPERION_CONNECTION_ID}"
    headers = {"Authorization": f"Bearer {config.asperion_operator_token}"}
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=None) as http:
        response = await http.post(url, headers=headers)
    seconds = time.monotonic() - started
    response.raise_for_status()
    made = response.json()["deliveries"]
    return {
        "deliveries": len(made),
        "documents": sum(d["count"] for d in made),
        "zip_mb": round(sum(d["size"] for d in made) / 2**20, 2),
        "seconds": round(seconds, 3),
        "mailed": all((d.get("mail") or {}).get("sent_at") for d in made),
    }


async def verify_asperion_books(
    config: SystemConfig,
    expected: dict[str, Decimal],
    expected_vat: dict[str, dict[Decimal, Decimal]],
) -> dict[str, Any]:
    """Read every sealed delivery of the connection (GridFS, SHA-256 checked against the
    seal) and every document in it: each order exactly one invoice, in one delivery, with
    the order's total and the VAT per rate the shop charged."""
    database = f"{database_prefix(config)}ledger_asperion"
    records = await read_deliveries(config.mongodb_uri, database, ASPERION_CONNECTION_ID)
    invoices: dict[str, list[tuple[Decimal, dict[Decimal, Decimal]]]] = {}
    other_documents = 0
    for record in records:
        _, data = await read_zip(config.mongodb_uri, database, record["_id"])
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                back = read_totals(archive.read(name))
                if back.kind != DocumentKind.INVOICE or back.order_reference is None:
                    other_documents += 1
                    continue
                vat = {b.vat.rate: b.tax_amount for b in back.vat}
                invoices.setdefault(back.order_reference, []).append(
                    (back.totals.tax_inclusive, vat)
                )
    missing = [n for n in expected if n not in invoices]
    twice = [n for n, found in invoices.items() if n in expected and len(found) > 1]
    unexpected = [n for n in invoices if n not in expected]
    differ = [
        n
        for n, found in invoices.items()
        if n in expected and len(found) == 1 and found[0][0] != expected[n]
    ]
    vat_differs = [
        n
        for n, found in invoices.items()
        if n in expected and len(found) == 1 and found[0][1] != expected_vat[n]
    ]
    return {
        "orders": len(expected),
        "deliveries": len(records),
        "invoices": sum(len(found) for found in invoices.values()),
        "other_documents": other_documents,
        "missing": len(missing),
        "booked_more_than_once": len(twice),
        "unexpected_invoices": len(unexpected),
        "total_differs": len(differ),
        "vat_differs": len(vat_differs),
        "ok": not (missing or twice or unexpected or differ or vat_differs or other_documents),
        "examples": {
            "missing": missing[:5],
            "twice": twice[:5],
            "differ": differ[:5],
            "vat_differs": vat_differs[:5],
        },
    }


def asperion_rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    replay = results.get("asperion_replay")
    if not replay:
        return []
    rows = [
        (
            "7. replay into Asperion (ledger-asperion, UBL documents)",
            f"{replay['orders_per_s']:,.1f} orders/s ({replay['booked']:,}/{replay['orders']:,} "
            f"in {replay['seconds']:.1f} s)",
            "—",
            "—",
        )
    ]
    for name, ms in replay.get("cpu_ms_per_order", {}).items():
        rows.append((f"   CPU per booked order, {name}", f"{ms:.2f} ms", "—", "—"))
    delivery = replay.get("delivery")
    if delivery:
        rows.append(
            (
                "   the day's delivery on request (seal, read back, mail)",
                f"{delivery['documents']:,} documents in {delivery['deliveries']} ZIP(s) of "
                f"{delivery['zip_mb']:.1f} MB, {delivery['seconds']:.1f} s, "
                f"{delivery['cpu_ms_per_document']:.2f} ms CPU per document",
                "—",
                "—",
            )
        )
    books = results.get("asperion_books")
    if books:
        rows.append(
            (
                "   books: one invoice per order in the sealed ZIPs, total and VAT per rate equal",
                f"{books['orders']:,} orders, {books['missing']} missing, "
                f"{books['booked_more_than_once']} twice, {books['total_differs']} total and "
                f"{books['vat_differs']} VAT differ",
                "all exactly once, equal",
                "met" if books["ok"] else "NOT met",
            )
        )
    return rows

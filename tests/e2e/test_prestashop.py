"""PrestaShop → Octopus end to end: orders paid in the PrestaShop sandbox, polled by
ingest-prestashop (no webhooks), become concept invoices in the merchant's own Octopus
dossier, exactly once each, read back and checked — and the merchant's edit of an order
replaces its invoice, its cancellation credits it.

Every part is its own process (the session's system); the shop is driven through the
sandbox's control API, what happened is read from Octopus and from the topics.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from koppel_contracts import (
    LEDGER_BOOKINGS,
    LEDGER_CHECKS,
    SHOP_ORDERS,
    BookingEvent,
    BookingStatus,
    CheckEvent,
    CheckOutcome,
    OrderEvent,
    OrderEventKind,
    RateAmount,
)
from koppel_demo.prestashop import (
    AWAITING_BANK_WIRE,
    PAID,
    PRESTASHOP_CONNECTION_ID,
    PRESTASHOP_DOSSIER_ID,
    PRESTASHOP_MERCHANT_EMAIL,
    connect_prestashop,
    place_paid_prestashop_order,
)
from koppel_demo.processes import ProcessGroup
from koppel_demo.system import SystemConfig
from koppel_sandbox_octopus import OctopusControl
from koppel_sandbox_prestashop import PrestaShopControl
from koppel_testkit import SmtpCatcher, eventually, read_events

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

SHIPPED = 4  # PrestaShop's "Verzonden": paid and shipped, nothing a ledger books changes
RATES = {"Koffiebonen 1 kg": "9", "Thee 100 g": "9", "Koffiemok": "21", "Molen": "21"}


def _row(name: str, price: str, quantity: int = 1) -> dict[str, Any]:
    return {"name": name, "price_tax_incl": price, "tax_rate": RATES[name], "quantity": quantity}


@pytest.fixture
async def prestashop(
    config: SystemConfig, system: ProcessGroup
) -> AsyncIterator[PrestaShopControl]:
    async with PrestaShopControl(config.url(config.ports.prestashop)) as control:
        yield control


@pytest.fixture
async def octopus(config: SystemConfig, system: ProcessGroup) -> AsyncIterator[OctopusControl]:
    async with OctopusControl(config.url(config.ports.octopus)) as control:
        yield control


def _total(order: dict[str, Any]) -> Decimal:
    return Decimal(str(order["total_paid_tax_incl"])).quantize(Decimal("0.01"))


def _vat(amounts: list[RateAmount] | None) -> dict[Decimal, Decimal]:
    return {v.vat_rate: v.amount for v in amounts or []}


def _assert_checked_against_the_shop(check: CheckEvent, order: dict[str, Any]) -> None:
    """The read-back check expected what the shop charged — its total and its VAT per rate —
    and found Octopus' document within the connection's tolerance. (Octopus computes an
    invoice's VAT itself, per line from the net amount: where PrestaShop rounded per item,
    the two can be a cent apart.)"""
    assert check.outcome == CheckOutcome.MATCHED, check.details
    assert check.order.order_number == order["reference"]
    assert check.expected_total_incl_vat == _total(order)
    assert _vat(check.expected_vat) == _charged_vat(order)
    assert abs(check.booked_total_incl_vat - check.expected_total_incl_vat) <= check.tolerance


def _assert_booked_exactly(check: CheckEvent, order: dict[str, Any]) -> None:
    assert check.booked_total_incl_vat == _total(order)
    assert _vat(check.booked_vat) == _charged_vat(order)


def _charged_vat(order: dict[str, Any]) -> dict[Decimal, Decimal]:
    """VAT per rate as the shop charged it: each line's incl. minus excl. at its product's
    rate, the shipping's at the carrier's rate."""
    vat: dict[Decimal, Decimal] = {}
    for detail in order["order_details"]:
        rate = Decimal(RATES[detail["product_name"]])
        charged = Decimal(detail["total_price_tax_incl"]) - Decimal(detail["total_price_tax_excl"])
        vat[rate] = vat.get(rate, Decimal(0)) + charged
    shipping = Decimal(order["total_shipping_tax_incl"]) - Decimal(order["total_shipping_tax_excl"])
    if shipping:
        rate = Decimal(order["carrier_tax_rate"]).normalize()
        vat[rate] = vat.get(rate, Decimal(0)) + shipping
    return {rate: amount.quantize(Decimal("0.01")) for rate, amount in vat.items()}


async def _documents(octopus: OctopusControl, order: dict[str, Any]) -> list[Decimal]:
    """The totals of the Octopus documents (invoices, credit notes) of one order."""
    invoices = await octopus.invoices(PRESTASHOP_DOSSIER_ID)
    return sorted(
        Decimal(str(i["_sandbox"]["totalInclVat"]))
        for i in invoices
        if i.get("reference") == order["reference"]
    )


async def _checks(
    config: SystemConfig, orders: list[dict[str, Any]]
) -> dict[tuple[str, int], list[CheckEvent]]:
    refs = {str(o["id"]) for o in orders}
    topic = config.isolation + LEDGER_CHECKS.name
    events = await read_events(
        config.kafka_bootstrap, topic, CheckEvent, at_least=len(orders), timeout=5
    )
    found: dict[tuple[str, int], list[CheckEvent]] = {}
    for check in events:
        if check.connection_id == PRESTASHOP_CONNECTION_ID and check.order_ref in refs:
            found.setdefault((check.order_ref, check.order_revision), []).append(check)
    return found


async def _checked(
    config: SystemConfig, orders: list[dict[str, Any]], revision: int = 1
) -> dict[tuple[str, int], list[CheckEvent]]:
    """Wait until each order's `revision` was booked and read back."""

    async def all_there() -> dict[tuple[str, int], list[CheckEvent]]:
        found = await _checks(config, orders)
        return found if all((str(o["id"]), revision) in found for o in orders) else {}

    return await eventually(all_there, timeout=45, interval=0.5)


async def _topic(config: SystemConfig, name: str, model: type[Any]) -> list[Any]:
    events = await read_events(
        config.kafka_bootstrap, config.isolation + name, model, timeout=10, settle=1.0
    )
    return [e for e in events if e.connection_id == PRESTASHOP_CONNECTION_ID]


def _revisions(events: list[Any], order: dict[str, Any], attribute: str) -> list[tuple[Any, int]]:
    """Distinct (kind or status, revision) of an order, in revision order: a redelivered
    event (the same event id) counts once."""
    seen = {
        (getattr(e, attribute), e.revision if isinstance(e, OrderEvent) else e.order_revision)
        for e in events
        if e.order_ref == str(order["id"])
    }
    return sorted(seen, key=lambda pair: pair[1])


async def test_prestashop_orders_are_booked_in_octopus_once_with_an_edit_and_a_cancellation(
    config: SystemConfig,
    system: ProcessGroup,
    smtp: SmtpCatcher,
    prestashop: PrestaShopControl,
    octopus: OctopusControl,
) -> None:
    await connect_prestashop(config)

    # ---- 1. four orders paid: at checkout (iDEAL), and one by bank transfer paid later ----
    mixed = await place_paid_prestashop_order(
        prestashop,
        {"rows": [_row("Koffiebonen 1 kg", "24.95", 2), _row("Koffiemok", "12.10")], "state": PAID},
    )
    wire = await place_paid_prestashop_order(
        prestashop,
        {
            "customer": {"email": "inkoop@kantoor-demo.nl", "company": "Kantoor BV"},
            "invoice_address": {"company": "Kantoor BV", "vat_number": "NL001234567B02"},
            "rows": [_row("Molen", "89.00"), _row("Thee 100 g", "6.49", 3)],
            "state": AWAITING_BANK_WIRE,
        },
    )
    edited = await place_paid_prestashop_order(
        prestashop, {"rows": [_row("Koffiebonen 1 kg", "24.95")], "state": PAID}
    )
    cancelled = await place_paid_prestashop_order(
        prestashop, {"rows": [_row("Koffiemok", "12.10", 2)], "state": PAID}
    )
    orders = [mixed, wire, edited, cancelled]
    first = await _checked(config, orders)
    for order in orders:
        [check] = first[(str(order["id"]), 1)]
        _assert_checked_against_the_shop(check, order)
        assert await _documents(octopus, order) == [check.booked_total_incl_vat], "one invoice"
    # The shop's own arithmetic, to the cent: 49.90 + 12.10 + 6.95 shipping...
    assert _total(mixed) == Decimal("68.95")
    assert _charged_vat(mixed) == {Decimal("9"): Decimal("4.12"), Decimal("21"): Decimal("3.31")}
    # ...which Octopus computes alike: every net amount's VAT rounds to what the shop charged.
    _assert_booked_exactly(first[(str(mixed["id"]), 1)][0], mixed)

    # ---- 2. shipped (a state moving on: nothing to book), then edited (an amendment) ----
    await prestashop.set_state(int(mixed["id"]), SHIPPED)
    detail = edited["order_details"][0]
    changed = await prestashop.edit_order(int(edited["id"]), quantities={str(detail["id"]): 3})
    edited_now = {**changed["order"], "order_details": changed["order_details"]}
    assert _total(edited_now) == Decimal("74.85") + Decimal("6.95")
    [amended] = (await _checked(config, [edited], revision=2))[(str(edited["id"]), 2)]
    _assert_checked_against_the_shop(amended, edited_now)
    _assert_booked_exactly(amended, edited_now)
    # Replaced as Octopus allows it: the concept in place (or, had it been booked meanwhile,
    # credited and booked anew) — either way the order's documents add up to its new total.
    documents = await _documents(octopus, edited)
    assert sum(documents, Decimal(0)) == _total(edited_now)
    assert len([t for t in documents if t > 0]) - len([t for t in documents if t < 0]) == 1

    # ---- 3. cancelled after it was booked: its invoice is credited ----
    await prestashop.cancel_order(int(cancelled["id"]))
    [credit] = (await _checked(config, [cancelled], revision=2))[(str(cancelled["id"]), 2)]
    assert credit.outcome == CheckOutcome.MATCHED, credit.details
    assert credit.booked_total_incl_vat == credit.expected_total_incl_vat
    assert abs(credit.booked_total_incl_vat) == _total(cancelled)
    assert await _documents(octopus, cancelled) == [-_total(cancelled), _total(cancelled)]

    # ---- exactly once: on the topics and in Octopus ----
    published = await _topic(config, SHOP_ORDERS.name, OrderEvent)
    assert _revisions(published, mixed, "kind") == [(OrderEventKind.CREATED, 1)], (
        "paid → shipped changes nothing a ledger books"
    )
    assert _revisions(published, wire, "kind") == [(OrderEventKind.CREATED, 1)]
    assert _revisions(published, edited, "kind") == [
        (OrderEventKind.CREATED, 1),
        (OrderEventKind.AMENDED, 2),
    ]
    assert _revisions(published, cancelled, "kind") == [
        (OrderEventKind.CREATED, 1),
        (OrderEventKind.CANCELLED, 2),
    ]
    bookings = await _topic(config, LEDGER_BOOKINGS.name, BookingEvent)
    assert _revisions(bookings, mixed, "status") == [(BookingStatus.BOOKED, 1)]
    assert _revisions(bookings, wire, "status") == [(BookingStatus.BOOKED, 1)]
    assert _revisions(bookings, edited, "status") == [
        (BookingStatus.BOOKED, 1),
        (BookingStatus.REPLACED, 2),
    ]
    assert _revisions(bookings, cancelled, "status") == [
        (BookingStatus.BOOKED, 1),
        (BookingStatus.CREDITED, 2),
    ]
    checks = await _checks(config, orders)
    assert sorted(checks) == sorted(
        [(str(o["id"]), 1) for o in orders] + [(str(edited["id"]), 2), (str(cancelled["id"]), 2)]
    )
    assert all(len({c.event_id for c in found}) == 1 for found in checks.values())
    for order in (mixed, wire):
        [check] = checks[(str(order["id"]), 1)]
        assert await _documents(octopus, order) == [check.booked_total_incl_vat]
    # Nothing needed the merchant.
    mails = await smtp.settled(2.0)
    assert [m for m in mails if PRESTASHOP_MERCHANT_EMAIL in m.rcpt_tos] == []

"""CCV Shop → Asperion end to end: the chocolatier's paid orders become UBL invoices (and a
credit note for the order cancelled after it was booked), sealed into the day's delivery on
request, mailed as a ZIP to the bookkeeping address and downloadable as the same bytes —
every document valid under the UBL 2.1 XSD, EN 16931 and, where it can hold, NLCIUS.

Black box: orders go in through the CCV sandbox, the delivery is made and fetched with the
operator CLI (`koppel asperion deliveries make/download/resend`), the mail is read from the
test's SMTP server, what was booked from `ledger.bookings.v1`.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import zipfile
from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from koppel_cli.main import app as cli
from koppel_contracts import LEDGER_BOOKINGS, BookingEvent, BookingStatus
from koppel_demo.demo_data import (
    ASPERION_BOOKKEEPING_EMAIL,
    ASPERION_CONNECTION_ID,
    demo_asperion_connection,
    place_paid_order,
    publish_demo_connection,
    wait_until_connected,
)
from koppel_demo.processes import ProcessGroup
from koppel_demo.system import SystemConfig, database_prefix
from koppel_sandbox_ccvshop import CcvShopControl
from koppel_testkit import SmtpCatcher, eventually, read_events
from koppel_ubl import DocumentKind, ReadBack, Specification, read_totals, validate
from lxml import etree
from typer.testing import CliRunner

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

# Late enough that the connection's scheduled delivery is not due while the test runs (it
# would take the documents first; the checks below hold for every delivery either way).
NOT_YET_DUE = "23:59"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")  # the zone delivery times are in
BOOKED = {BookingStatus.BOOKED, BookingStatus.REPLACED, BookingStatus.CREDITED}
# The prefix of each ZIP entry per `LedgerRef.booking_id` kind (ledger-asperion's naming).
ENTRY_PREFIX = {"invoice": "factuur", "credit_note": "creditnota"}
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"


@pytest.fixture
async def chocolate_shop(
    config: SystemConfig, system: ProcessGroup
) -> AsyncIterator[CcvShopControl]:
    async with CcvShopControl(config.url(config.ports.ccvshop_asperion)) as control:
        yield control


def _cli_env(config: SystemConfig) -> dict[str, str]:
    return {
        "KOPPEL_MONGODB_URI": config.mongodb_uri,
        "KOPPEL_MONGODB_DATABASE": f"{database_prefix(config)}ledger_asperion",
        "KOPPEL_ASPERION_URL": config.url(config.ports.ledger_asperion),
        "KOPPEL_ASPERION_OPERATOR_TOKEN": config.asperion_operator_token,
    }


async def _koppel(config: SystemConfig, *args: str) -> str:
    """The operator CLI, in this process (the commands call the service and the database)."""
    result = await asyncio.to_thread(CliRunner().invoke, cli, list(args), env=_cli_env(config))
    assert result.exit_code == 0, result.output
    return result.output


async def _deliveries(config: SystemConfig) -> list[dict[str, Any]]:
    url = config.url(config.ports.ledger_asperion)
    headers = {"Authorization": f"Bearer {config.asperion_operator_token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers) as http:
        response = await http.get(f"/deliveries/{ASPERION_CONNECTION_ID}")
    response.raise_for_status()
    return list(response.json()["deliveries"])


async def _bookings(config: SystemConfig) -> list[BookingEvent]:
    events = await read_events(
        config.kafka_bootstrap,
        config.isolation + LEDGER_BOOKINGS.name,
        BookingEvent,
        timeout=10,
        settle=1.0,
    )
    return [e for e in events if e.connection_id == ASPERION_CONNECTION_ID]


def _entry(event: BookingEvent) -> str:
    """The ZIP entry that must hold the document a booking event reports."""
    assert event.ledger_ref is not None
    kind, number = event.ledger_ref.booking_id.split(":", 1)
    return f"{ENTRY_PREFIX[kind]}-{number}.xml"


async def _booked(config: SystemConfig, expected: int) -> list[BookingEvent]:
    async def enough() -> list[BookingEvent]:
        events = await _bookings(config)
        failed = [e.failure for e in events if e.status == BookingStatus.FAILED]
        assert not failed, failed
        found = [e for e in events if e.status in BOOKED]
        revisions = {(e.order_ref, e.order_revision) for e in found}
        return found if len(revisions) >= expected else []

    return await eventually(enough, timeout=60, interval=0.5)


def _schedule_may_have_run(started: datetime, now: datetime) -> bool:
    """Whether the connection's own delivery at NOT_YET_DUE may have come first: only when
    the test ran across that minute (or midnight, the day it belonged to)."""
    return now.date() != started.date() or now.strftime("%H:%M") >= NOT_YET_DUE


def _tagged_nlcius(xml: bytes) -> bytes:
    """The same document claiming NLCIUS (the SI-UBL rules check only what claims them)."""
    root = etree.fromstring(xml)
    [tag] = root.findall(f"{{{CBC}}}CustomizationID")
    tag.text = Specification.NLCIUS.value
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _vat(document: ReadBack) -> dict[Decimal, Decimal]:
    return {b.vat.rate: b.tax_amount for b in document.vat}


async def test_each_order_revision_is_in_one_valid_ubl_document_of_one_mailed_delivery(
    config: SystemConfig,
    system: ProcessGroup,
    smtp: SmtpCatcher,
    chocolate_shop: CcvShopControl,
    tmp_path: Path,
) -> None:
    started = datetime.now(AMSTERDAM)
    connection = demo_asperion_connection(config, delivery_time=NOT_YET_DUE)
    await publish_demo_connection(config, connection, ASPERION_CONNECTION_ID)
    await wait_until_connected(config, ASPERION_CONNECTION_ID, config.ports.ccvshop_asperion)

    # Two VAT rates, shipping charged at 21 %: 71.50 incl. 10.89 VAT (9.52 at 21 %, 1.37 at 9 %).
    mixed = await place_paid_order(
        chocolate_shop,
        {
            "rows": [
                {"product_name": "Bonbondoos Luxe", "count": 1, "price": "49.90", "tax": 21},
                {"product_name": "Hagelslag Puur", "count": 3, "price": "5.55", "tax": 9},
            ],
            "shipping": "4.95",
            "shipping_tax_percentage": 21,
        },
    )
    business = await place_paid_order(
        chocolate_shop,
        {
            "rows": [{"product_name": "Relatiegeschenk", "count": 4, "price": "18.15", "tax": 21}],
            "customer": {
                "email": "inkoop@kantoor-demo.nl",
                "billingaddress": {"company": "Kantoor BV"},
            },
            "paymethod": "BankTransfer",
        },
    )
    # A consumer in Belgium: OSS at the Belgian 21 %, and a buyer outside the Netherlands, so
    # the document can claim NLCIUS (BR-NL-10 asks a Dutch buyer for a KvK number).
    belgian = await place_paid_order(
        chocolate_shop,
        {
            "rows": [{"product_name": "Pralines 500g", "count": 2, "price": "16.50", "tax": 21}],
            "shipping": "6.95",
            "shipping_tax_percentage": 21,
            "customer": {
                "email": "lotte@voorbeeld.be",
                "billingaddress": {
                    "first_name": "Lotte",
                    "last_name": "Peeters",
                    "full_name": "Lotte Peeters",
                    "address_line_1": "Meir 10",
                    "street": "Meir",
                    "housenumber": 10,
                    "zipcode": "2000",
                    "city": "Antwerpen",
                    "province": "",
                    "country": "België",
                    "country_code": "BE",
                },
            },
        },
    )
    cancelled = await place_paid_order(chocolate_shop, {})
    orders = [mixed, business, belgian, cancelled]
    await _booked(config, expected=len(orders))

    # Cancelled after it was booked: a credit note of its invoice follows.
    await chocolate_shop.cancel_order(cancelled["id"])
    bookings = await _booked(config, expected=len(orders) + 1)

    made = await _koppel(config, "asperion", "deliveries", "make", ASPERION_CONNECTION_ID)
    if not _schedule_may_have_run(started, datetime.now(AMSTERDAM)):
        assert "document(s)" in made, made
    assert "nothing to deliver" in await _koppel(
        config, "asperion", "deliveries", "make", ASPERION_CONNECTION_ID
    ), "every document was in the first delivery"

    # ---- every booked order revision: exactly one document of exactly one delivery --------
    deliveries = await _deliveries(config)
    assert deliveries
    zips: dict[str, bytes] = {}
    where: dict[str, list[str]] = {}  # ZIP entry -> the deliveries holding it
    documents: dict[str, bytes] = {}
    for delivery in deliveries:
        target = tmp_path / f"{delivery['sha256']}.zip"
        await _koppel(
            config, "asperion", "deliveries", "download", delivery["delivery_id"], "-o", str(target)
        )
        data = target.read_bytes()
        assert hashlib.sha256(data).hexdigest() == delivery["sha256"]
        zips[delivery["delivery_id"]] = data
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            assert len(names) == len(set(names)) == delivery["count"]
            for name in names:
                where.setdefault(name, []).append(delivery["delivery_id"])
                documents[name] = archive.read(name)
    revisions = {(e.order_ref, e.order_revision, _entry(e)) for e in bookings}
    assert len(revisions) == len(orders) + 1, revisions
    for order_ref, revision, entry in revisions:
        assert len(where.get(entry, [])) == 1, (order_ref, revision, entry, where.get(entry))
    assert set(where) == {entry for _, _, entry in revisions}, "nothing else was delivered"

    # ---- every document valid: UBL XSD, EN 16931, NLCIUS (BR-NL-10 for Dutch buyers) ------
    claimed_nlcius = 0
    for name, xml in documents.items():
        report = validate(xml)
        assert report.ok, (name, report.problems)
        back = read_totals(xml)
        if "nlcius" in report.checked:
            claimed_nlcius += 1
            assert back.buyer.country != "NL"
        else:
            # It claims plain EN 16931 because its buyer is Dutch: tagged as NLCIUS, the one
            # rule it would break is BR-NL-10 (no shop order has the buyer's KvK number).
            assert back.buyer.country == "NL", name
            strict = validate(_tagged_nlcius(xml))
            assert "nlcius" in strict.checked
            assert set(strict.fatal_ids) == {"BR-NL-10"}, (name, strict.problems)
    assert claimed_nlcius == 1, "the Belgian consumer's invoice claims NLCIUS"

    # ---- the documents say what the shop charged, to the cent ------------------------------
    by_number = {str(o["ordernumber_full"]): o for o in orders}
    read_back = [read_totals(xml) for xml in documents.values()]
    invoices = {b.order_reference: b for b in read_back if b.kind == DocumentKind.INVOICE}
    assert set(invoices) == set(by_number)
    for number, order in by_number.items():
        assert invoices[number].totals.tax_inclusive == Decimal(str(order["total_price"])), number
        assert invoices[number].totals.payable == Decimal("0.00"), "paid in the shop"
    assert _vat(invoices[str(mixed["ordernumber_full"])]) == {
        Decimal("21"): Decimal("9.52"),
        Decimal("9"): Decimal("1.37"),
    }
    [credit] = [b for b in read_back if b.kind != DocumentKind.INVOICE]
    assert credit.kind == DocumentKind.CREDIT_NOTE
    assert credit.invoice_reference == invoices[str(cancelled["ordernumber_full"])].number
    assert credit.totals.tax_inclusive == Decimal(str(cancelled["total_price"]))

    # ---- the mail: one per delivery, its attachment the kept bytes; a re-send the same ----
    def delivery_mails() -> list[Any]:
        return [m for m in smtp.received if ASPERION_BOOKKEEPING_EMAIL in m.rcpt_tos]

    await eventually(lambda: _at_least(delivery_mails, len(zips)), timeout=30)
    for mail in delivery_mails():
        [attachment] = list(mail.message.iter_attachments())
        delivery_id = mail.message["X-Koppel-Delivery"]
        assert attachment.get_content() == zips[delivery_id]
        assert attachment.get_filename() == next(
            d["name"] for d in deliveries if d["delivery_id"] == delivery_id
        )
    assert sorted(m.message["X-Koppel-Delivery"] for m in delivery_mails()) == sorted(zips)

    first = deliveries[0]["delivery_id"]
    await _koppel(config, "asperion", "deliveries", "resend", first)
    await eventually(lambda: _at_least(delivery_mails, len(zips) + 1), timeout=30)
    resent = delivery_mails()[-1]
    assert resent.message["X-Koppel-Delivery"] == first
    assert next(resent.message.iter_attachments()).get_content() == zips[first]


async def _at_least(mails: Any, count: int) -> bool:
    return len(mails()) >= count

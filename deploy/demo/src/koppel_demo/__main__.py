"""`python -m koppel_demo` — Koppel running locally with five demo merchants: a coffee
roaster (CCV Shop → Octopus), a tea shop (CCV Shop → SnelStart), a chocolatier (CCV
Shop → Asperion: a daily ZIP of UBL invoices), a coffee and tea shop on PrestaShop
(→ Octopus, a dossier of its own) and a book and gadget seller on Bol.com (→ Octopus sales
bookings), and the merchant dashboard with an account for each.

up                 (default) start everything, connect the demo shops, place demo orders,
                   make the dashboard accounts; Ctrl-C stops every process cleanly
order              place and pay one more order in each sandbox shop
invoices           the invoices in the Octopus sandbox, the sales bookings in SnelStart and
                   the chocolatier's UBL documents with the delivery that holds each
deliver            make the chocolatier's delivery now (instead of waiting for its time)
mails              the e-mails to the merchants (the notifier's, and the deliveries)
prestashop-edit    one more of the first product on the newest PrestaShop order
                   (Octopus: the concept invoice replaced)
prestashop-cancel  cancel the newest PrestaShop order (Octopus: a credit note)
bol-cancel         cancel the newest open Bol.com order (Octopus: its sales booking credited)
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import signal
import sys
from decimal import Decimal

import httpx
import koppel_localstack
from koppel_chassis import generate_key
from koppel_ledger_asperion.documents import DocumentStore
from koppel_sandbox_ccvshop import CcvShopControl
from koppel_sandbox_octopus import DEMO, OctopusControl
from koppel_sandbox_prestashop import PrestaShopControl
from koppel_sandbox_snelstart import DEMO as SNELSTART
from koppel_sandbox_snelstart import SnelStartControl
from pymongo import AsyncMongoClient

from . import bol
from .dashboard import create_demo_accounts
from .demo_data import (
    ASPERION_BOOKKEEPING_EMAIL,
    ASPERION_CONNECTION_ID,
    DEMO_ORDERS,
    TEA_CONNECTION_ID,
    demo_asperion_connection,
    demo_connection,
    demo_tea_connection,
    place_paid_order,
    publish_demo_connection,
    wait_until_connected,
)
from .guide import guide
from .prestashop import (
    PRESTASHOP_DEMO_ORDERS,
    cancel_newest_order,
    connect_prestashop,
    edit_newest_order,
    order_line,
    place_paid_prestashop_order,
    print_prestashop_invoices,
)
from .system import (
    SystemConfig,
    create_topics,
    database_prefix,
    forget_previous_run,
    start_system,
)

STATE_DIR = koppel_localstack.StackConfig.from_env().run_dir.parent / "demo"


def _config(endpoints: koppel_localstack.Endpoints) -> SystemConfig:
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    key_file = STATE_DIR / "secrets.key"
    if not key_file.exists():
        # A stable demo key, so settings stored by an earlier run still decrypt.
        key_file.write_text(generate_key())
    return SystemConfig(
        kafka_bootstrap=endpoints.kafka_bootstrap,
        mongodb_uri=endpoints.mongodb_uri,
        secrets_key=key_file.read_text().strip(),
        log_dir=STATE_DIR / "logs",
        mail_dir=STATE_DIR / "mail",
        isolation="demo.",
    )


def _euro(amount: object) -> str:
    return f"€ {Decimal(str(amount)):.2f}"


def _say(text: str = "") -> None:
    print(text, flush=True)


async def _connect_and_seed(config: SystemConfig) -> None:
    await publish_demo_connection(config, demo_connection(config))
    await publish_demo_connection(config, demo_tea_connection(config), TEA_CONNECTION_ID)
    await wait_until_connected(config)
    await wait_until_connected(config, TEA_CONNECTION_ID, config.ports.ccvshop_tea)
    await _connect_chocolatier(config)
    for name, port in _shops(config):
        async with CcvShopControl(config.url(port)) as shop:
            for spec in DEMO_ORDERS:
                order = await place_paid_order(shop, spec)
                number, total = order["ordernumber_full"], _euro(order["total_price"])
                _say(f"  paid order {number} ({total}) in the {name}")
    await _connect_prestashop_merchant(config)
    await _connect_bol_merchant(config)


async def _connect_prestashop_merchant(config: SystemConfig) -> None:
    """The PrestaShop shop placed its own demo orders when it started (three paid, one
    cancelled before payment): ingest-prestashop picks them up with its first poll. Two
    more are paid now, one of them by bank transfer (awaiting the wire first)."""
    await connect_prestashop(config)
    async with PrestaShopControl(config.url(config.ports.prestashop)) as shop:
        for spec in PRESTASHOP_DEMO_ORDERS:
            order = await place_paid_prestashop_order(shop, spec)
            _say(f"  paid {order_line(order)} in the PrestaShop shop (→ Octopus)")


async def _connect_bol_merchant(config: SystemConfig) -> None:
    """The Bol.com sandbox's demo retailer has orders from before the connection, which a
    new connection leaves alone; two buyers order now: a consumer (a book and earbuds, two
    VAT rates) and a business that asks for an invoice."""
    await bol.connect_bol(config)
    async with bol.bol_control(config) as seller:
        for spec in bol.BOL_DEMO_ORDERS:
            order = await bol.place_bol_order(seller, spec)
            _say(f"  placed {bol.order_line(order)} on Bol.com (→ Octopus sales booking)")


def _shops(config: SystemConfig) -> list[tuple[str, int]]:
    return [
        ("coffee shop (→ Octopus)", config.ports.ccvshop),
        ("tea shop (→ SnelStart)", config.ports.ccvshop_tea),
        ("chocolatier (→ Asperion)", config.ports.ccvshop_asperion),
    ]


async def _connect_chocolatier(config: SystemConfig) -> None:
    await publish_demo_connection(config, demo_asperion_connection(config), ASPERION_CONNECTION_ID)
    await wait_until_connected(config, ASPERION_CONNECTION_ID, config.ports.ccvshop_asperion)


async def _fresh_topics(config: SystemConfig) -> None:
    await forget_previous_run(config)
    await create_topics(config)


def up() -> int:
    _say("Starting Kafka and the MongoDB-compatible server (first run builds them; minutes)...")
    endpoints = koppel_localstack.start(koppel_localstack.StackConfig.from_env())
    config = _config(endpoints)
    asyncio.run(_fresh_topics(config))
    _say("Starting sandboxes and services...")
    group = start_system(config)
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        _say("Connecting the demo shops and placing demo orders:")
        asyncio.run(_connect_and_seed(config))
        logins = asyncio.run(create_demo_accounts(config))
        _say(guide(config, logins))
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        # A second Ctrl-C (or the SIGINT a wrapper like `make` or `uv` passes on)
        # must not cut the clean stop short and leave processes behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _say("\nStopping every process...")
        for name, code in group.stop_all().items():
            _say(f"  {name}: stopped ({code})")
        _say("Kafka and MongoDB keep running for next time: `make stop` stops them.")
    return 0


async def _order() -> None:
    config = _config(koppel_localstack.endpoints())
    for name, port in _shops(config):
        async with CcvShopControl(config.url(port)) as shop:
            order = await place_paid_order(shop, DEMO_ORDERS[0])
        number, total = order["ordernumber_full"], _euro(order["total_price"])
        _say(f"paid order {number} ({total}) in the {name}; see `invoices`")
    async with PrestaShopControl(config.url(config.ports.prestashop)) as prestashop:
        placed = await place_paid_prestashop_order(prestashop, PRESTASHOP_DEMO_ORDERS[0])
    _say(f"paid {order_line(placed)} in the PrestaShop shop (→ Octopus); see `invoices`")
    async with bol.bol_control(config) as seller:
        ordered = await bol.place_bol_order(seller, bol.BOL_DEMO_ORDERS[0])
    _say(f"placed {bol.order_line(ordered)} on Bol.com (→ Octopus); see `invoices`")


async def _invoices() -> None:
    config = _config(koppel_localstack.endpoints())
    async with OctopusControl(config.url(config.ports.octopus)) as octopus:
        invoices = await octopus.invoices(DEMO.dossier_id)
    _say("Octopus — concept invoices of the coffee roaster:")
    if not invoices:
        _say("  none yet")
    for invoice in invoices:
        totals = invoice.get("_sandbox", {})
        total = Decimal(str(totals.get("totalInclVat", "0")))
        state = "booked" if totals.get("booked") else "concept"
        number = f"{invoice['journalKey']} {invoice['documentSequenceNr']:>4}"
        reference = invoice.get("reference", "")
        comment = invoice.get("comment", "")
        _say(f"  {number}  {state:<8} reference {reference:<12} € {total:>9}  {comment}")
    async with SnelStartControl(config.url(config.ports.snelstart)) as snelstart:
        bookings = await snelstart.bookings(SNELSTART.main.administratie_id)
    _say("SnelStart — sales bookings of the tea shop:")
    if not bookings:
        _say("  none yet")
    for booking in bookings:
        total = Decimal(str(booking["factuurbedrag"]))
        vat = ", ".join(f"{b['btwSoort']} {b['btwBedrag']}" for b in booking.get("btw") or [])
        _say(
            f"  {booking['factuurnummer']:<14} € {total:>9}  btw: {vat or '-'}  "
            f"{booking.get('omschrijving', '')}"
        )
    await _asperion_documents(config)
    await print_prestashop_invoices(config, _say)
    await bol.print_bol_bookings(config, _say)


async def _asperion_documents(config: SystemConfig) -> None:
    """The chocolatier's UBL documents, read from ledger-asperion's database (there is no
    Asperion to ask: the documents reach it as the daily ZIP)."""
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        config.mongodb_uri, serverSelectionTimeoutMS=5000
    )
    try:
        database = client[f"{database_prefix(config)}ledger_asperion"]
        documents = await DocumentStore(database).of_connection(ASPERION_CONNECTION_ID)
    finally:
        await client.close()
    _say("Asperion — UBL documents of the chocolatier (imported from the daily ZIP):")
    if not documents:
        _say("  none yet")
    for document in documents:
        kind = "credit note" if document.credit else "invoice"
        where = document.delivery_id or "waiting for the day's delivery (try `deliver`)"
        _say(
            f"  {kind:<11} {document.number:<14} € {document.expected_total:>9}  "
            f"order {document.reference}  {where}"
        )


async def _deliver() -> None:
    config = _config(koppel_localstack.endpoints())
    url = f"{config.url(config.ports.ledger_asperion)}/deliveries/{ASPERION_CONNECTION_ID}"
    headers = {"Authorization": f"Bearer {config.asperion_operator_token}"}
    async with httpx.AsyncClient(timeout=120) as http:
        response = await http.post(url, headers=headers)
    response.raise_for_status()
    made = response.json()["deliveries"]
    if not made:
        _say("nothing to deliver: every document is in a delivery already")
    for delivery in made:
        _say(
            f"delivery {delivery['delivery_id']}: {delivery['count']} document(s) in "
            f"{delivery['name']}, mailed to {ASPERION_BOOKKEEPING_EMAIL}; see `mails`"
        )


async def _change_prestashop_order(command: str) -> None:
    config = _config(koppel_localstack.endpoints())
    if command == "prestashop-edit":
        order = await edit_newest_order(config)
        done = "edited (one more of its first product)"
        then = "its concept invoice is replaced (a booked one: credited and booked anew)"
    else:
        order = await cancel_newest_order(config)
        done, then = "cancelled", "a credit note follows its invoice"
    if order is None:
        _say("the PrestaShop shop has no orders")
        return
    _say(f"{order_line(order)} {done} in the PrestaShop shop; after the next poll {then}")
    _say("see `invoices`")


async def _cancel_bol_order() -> None:
    config = _config(koppel_localstack.endpoints())
    order = await bol.cancel_newest_order(config)
    if order is None:
        _say("the Bol.com seller has no open orders")
        return
    _say(f"{bol.order_line(order)} cancelled on Bol.com; after the next poll its sales booking")
    _say("is credited — see `invoices`")


def _mails() -> None:
    folder = STATE_DIR / "mail"
    files = sorted(folder.glob("*.eml")) if folder.exists() else []
    if not files:
        _say("no e-mails yet — the notifier writes only when something needs the merchant")
    for path in files:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        _say(f"--- {path.name}  To: {message['to']}  Subject: {message['subject']}")
        body = message.get_body(preferencelist=("plain",))
        _say(body.get_content() if body else "")
        for attachment in message.iter_attachments():
            _say(f"[attachment: {attachment.get_filename()}]")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="koppel_demo", description=__doc__.split("\n")[0])
    parser.add_argument(
        "command",
        nargs="?",
        default="up",
        choices=[
            "up",
            "order",
            "invoices",
            "deliver",
            "mails",
            "prestashop-edit",
            "prestashop-cancel",
            "bol-cancel",
        ],
    )
    command = parser.parse_args(argv).command
    if command == "up":
        return up()
    try:
        if command == "order":
            asyncio.run(_order())
        elif command == "invoices":
            asyncio.run(_invoices())
        elif command == "deliver":
            asyncio.run(_deliver())
        elif command in ("prestashop-edit", "prestashop-cancel"):
            asyncio.run(_change_prestashop_order(command))
        elif command == "bol-cancel":
            asyncio.run(_cancel_bol_order())
        else:
            _mails()
    except httpx.ConnectError:
        print("the demo is not running: start it with `make run`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

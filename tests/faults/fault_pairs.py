"""Every shop → ledger pair the demo has, as one table (`PAIRS`): how the run connects it,
places a paid order in its shop, cancels one, and reads the ledger's books back.

A pair that joins the demo (Bol.com → Octopus, ...) is one more `PairSpec` here: a shop
side (`CcvShop`, `PrestaShopShop`, ...), a ledger side (`OctopusBooks`, `SnelStartBooks`,
`AsperionBooks`) and how its connection is published. `available_pairs` keeps the ones
whose processes the running system has.

The services reach the sandboxes through the run's fault proxies (`proxied`: the same
config with the proxies' ports), the run itself talks to them directly.
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

import httpx
from fault_orders import PlannedOrder, vat_in
from koppel_cli.asperion import read_deliveries, read_zip
from koppel_demo.demo_data import (
    ASPERION_CONNECTION_ID,
    CONNECTION_ID,
    TEA_CONNECTION_ID,
    demo_asperion_connection,
    demo_connection,
    demo_tea_connection,
    publish_demo_connection,
    wait_until_connected,
)
from koppel_demo.system import SystemConfig, _database_prefix
from koppel_sandbox_ccvshop import CcvShopControl
from koppel_sandbox_octopus import DEMO, OctopusControl
from koppel_sandbox_octopus.demo import VAT_CODES
from koppel_sandbox_octopus.documents import invoice_line_amounts
from koppel_sandbox_snelstart import DEMO as SNELSTART
from koppel_sandbox_snelstart import SnelStartControl
from koppel_ubl import DocumentKind, read_totals


@dataclass(frozen=True)
class PlacedOrder:
    pair: str
    number: str  # the order number the ledger books it under
    shop_id: str  # the shop's own id, to cancel it
    total: Decimal
    vat: dict[Decimal, Decimal]  # VAT per rate as the shop charged it
    refused: bool
    cancel: bool
    placed_at: float  # monotonic


@dataclass(frozen=True)
class Document:
    """One document in a ledger, as the ledger holds it."""

    credit: bool
    total: Decimal
    vat: dict[Decimal, Decimal]


Books = dict[str, list[Document]]  # order number -> documents


class Shop(Protocol):
    sandbox: str  # the sandbox process (a fault target)
    port_field: str  # its field in `Ports`

    async def place(self, config: SystemConfig, planned: PlannedOrder) -> PlacedOrder: ...
    async def cancel(self, config: SystemConfig, order: PlacedOrder) -> None: ...
    async def preexisting(self, config: SystemConfig) -> set[str]: ...


class Ledger(Protocol):
    sandbox: str | None  # the ledger's sandbox process, None for a file ledger
    port_field: str | None  # its field in `Ports`
    service: str

    async def books(self, config: SystemConfig) -> Books: ...


# ==== shops =======================================================================================


@dataclass
class CcvShop:
    sandbox: str
    port_field: str
    _clients: dict[str, CcvShopControl] = field(default_factory=dict)

    def control(self, config: SystemConfig) -> CcvShopControl:
        url = config.url(getattr(config.ports, self.port_field))
        if url not in self._clients:
            self._clients[url] = CcvShopControl(url, timeout=60)
        return self._clients[url]

    async def place(self, config: SystemConfig, planned: PlannedOrder) -> PlacedOrder:
        shop = self.control(config)
        rows = [
            {
                "product_name": line.name,
                "count": line.quantity,
                "price": str(line.unit_price),
                "tax": int(line.rate),
            }
            for line in planned.lines
        ]
        customer = {"email": f"klant{planned.customer}@faults.example"}
        order = await shop.seed_order(rows=rows, customer=customer)
        await shop.mark_paid(order["id"])
        vat = planned.goods_vat
        shipping = Decimal(str(order["total_shipping"]))
        if shipping:
            rate = Decimal(str(order["shipping_tax_percentage"]))
            vat[rate] = vat.get(rate, Decimal(0)) + vat_in(shipping, rate)
        return PlacedOrder(
            planned.pair,
            str(order["ordernumber_full"]),
            str(order["id"]),
            Decimal(str(order["total_price"])),
            vat,
            planned.refused,
            planned.cancel,
            time.monotonic(),
        )

    async def cancel(self, config: SystemConfig, order: PlacedOrder) -> None:
        await self.control(config).cancel_order(int(order.shop_id))

    async def preexisting(self, config: SystemConfig) -> set[str]:
        return set()  # the CCV sandbox starts without orders

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()


@dataclass
class PrestaShopShop:
    sandbox: str = "prestashop-sandbox"
    port_field: str = "prestashop"

    def _url(self, config: SystemConfig) -> str:
        return config.url(getattr(config.ports, self.port_field))

    async def place(self, config: SystemConfig, planned: PlannedOrder) -> PlacedOrder:
        from koppel_demo.prestashop import PAID
        from koppel_sandbox_prestashop import PrestaShopControl

        rows = [
            {
                "name": line.name,
                "price_tax_incl": str(line.unit_price),
                "tax_rate": str(line.rate),
                "quantity": line.quantity,
            }
            for line in planned.lines
        ]
        customer = {
            "email": f"klant{planned.customer}@faults.example",
            "firstname": "Klant",
            "lastname": str(planned.customer),
        }
        async with PrestaShopControl(self._url(config), timeout=60) as shop:
            placed = await shop.create_order(customer=customer, rows=rows, state=PAID)
        order, details = placed["order"], placed["order_details"]
        vat: dict[Decimal, Decimal] = {}
        for line, detail in zip(planned.lines, details, strict=True):
            charged = _money(detail["total_price_tax_incl"]) - _money(
                detail["total_price_tax_excl"]
            )
            vat[line.rate] = vat.get(line.rate, Decimal(0)) + charged
        shipping = _money(order["total_shipping_tax_incl"]) - _money(
            order["total_shipping_tax_excl"]
        )
        if _money(order["total_shipping_tax_incl"]):
            rate = Decimal(str(order["carrier_tax_rate"])).normalize()
            vat[rate] = vat.get(rate, Decimal(0)) + shipping
        return PlacedOrder(
            planned.pair,
            str(order["reference"]),
            str(order["id"]),
            _money(order["total_paid_tax_incl"]),
            vat,
            planned.refused,
            planned.cancel,
            time.monotonic(),
        )

    async def cancel(self, config: SystemConfig, order: PlacedOrder) -> None:
        from koppel_sandbox_prestashop import PrestaShopControl

        async with PrestaShopControl(self._url(config), timeout=60) as shop:
            await shop.cancel_order(int(order.shop_id))

    async def preexisting(self, config: SystemConfig) -> set[str]:
        """The sandbox's demo shop places orders of its own when it starts: Koppel books
        those too, and they are not the run's."""
        from koppel_demo.prestashop import newest_order_id
        from koppel_sandbox_prestashop import PrestaShopControl

        newest = await newest_order_id(config) or 0
        async with PrestaShopControl(self._url(config), timeout=60) as shop:
            return {str((await shop.order(i))["order"]["reference"]) for i in range(1, newest + 1)}


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


# ==== ledgers =====================================================================================

OCTOPUS_RATES = {spec.code: spec.percentage for spec in VAT_CODES}


@dataclass(frozen=True)
class OctopusBooks:
    dossier_id: int
    sandbox: str = "octopus-sandbox"
    port_field: str = "octopus"
    service: str = "ledger-octopus"

    async def books(self, config: SystemConfig) -> Books:
        """Concept invoices by reference; a credit note is an invoice with a negative total.
        VAT per rate as Octopus computes it per line (`invoice_line_amounts`)."""
        async with OctopusControl(config.url(config.ports.octopus), timeout=300) as octopus:
            invoices = await octopus.invoices(self.dossier_id)
        books: Books = {}
        for invoice in invoices:
            vat: dict[Decimal, Decimal] = {}
            for line in invoice["invoiceLines"]:
                rate = OCTOPUS_RATES[line["vatCodeKey"]]
                _, line_vat = invoice_line_amounts(
                    Decimal(str(line["count"])),
                    Decimal(str(line["unitPrice"])),
                    Decimal(str(line.get("discountPercentage") or 0)),
                    rate,
                )
                vat[rate.normalize()] = vat.get(rate.normalize(), Decimal(0)) + line_vat
            total = Decimal(str(invoice["_sandbox"]["totalInclVat"]))
            credit = total < 0
            document = Document(credit, abs(total), {r: abs(v) for r, v in vat.items()})
            books.setdefault(str(invoice.get("reference")), []).append(document)
        return books


SNELSTART_KINDS = {"VerkopenHoog": Decimal(21), "VerkopenLaag": Decimal(9)}


@dataclass(frozen=True)
class SnelStartBooks:
    sandbox: str = "snelstart-sandbox"
    port_field: str = "snelstart"
    service: str = "ledger-snelstart"

    async def books(self, config: SystemConfig) -> Books:
        """Sales bookings: `factuurnummer` is the order number, a credit booking adds `-C1`
        (`-C2`, ...) and has a negative `factuurbedrag`; `btw` per VAT kind."""
        async with SnelStartControl(config.url(config.ports.snelstart), timeout=300) as control:
            bookings = await control.bookings(SNELSTART.main.administratie_id)
        books: Books = {}
        for booking in bookings:
            number = str(booking["factuurnummer"])
            base, _, suffix = number.partition("-")
            total = Decimal(str(booking["factuurbedrag"]))
            vat: dict[Decimal, Decimal] = {}
            for row in booking.get("btw") or []:
                rate = SNELSTART_KINDS.get(str(row.get("btwSoort")))
                if rate is not None:
                    vat[rate] = vat.get(rate, Decimal(0)) + abs(Decimal(str(row["btwBedrag"])))
            credit = total < 0 or suffix.startswith("C")
            books.setdefault(base, []).append(Document(credit, abs(total), vat))
        return books


@dataclass(frozen=True)
class AsperionBooks:
    connection_id: str = ASPERION_CONNECTION_ID
    sandbox: str | None = None
    port_field: str | None = None
    service: str = "ledger-asperion"

    async def books(self, config: SystemConfig) -> Books:
        """The connection's deliveries are made on request first (what is pending goes into
        one sealed ZIP), then every sealed delivery is read back: each UBL invoice or credit
        note under its order reference, its total and VAT per rate."""
        url = f"{config.url(config.ports.ledger_asperion)}/deliveries/{self.connection_id}"
        headers = {"Authorization": f"Bearer {config.asperion_operator_token}"}
        async with httpx.AsyncClient(timeout=None) as http:
            (await http.post(url, headers=headers)).raise_for_status()
        database = f"{_database_prefix(config)}ledger_asperion"
        books: Books = {}
        for record in await read_deliveries(config.mongodb_uri, database, self.connection_id):
            _, data = await read_zip(config.mongodb_uri, database, record["_id"])
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for name in archive.namelist():
                    back = read_totals(archive.read(name))
                    vat = {b.vat.rate.normalize(): abs(b.tax_amount) for b in back.vat}
                    document = Document(
                        back.kind == DocumentKind.CREDIT_NOTE,
                        abs(back.totals.tax_inclusive),
                        vat,
                    )
                    books.setdefault(str(back.order_reference), []).append(document)
        return books


# ==== the table ===================================================================================

Connect = Callable[[SystemConfig, SystemConfig], Awaitable[None]]


async def _connect_coffee(config: SystemConfig, proxied: SystemConfig) -> None:
    await publish_demo_connection(config, demo_connection(proxied))
    await wait_until_connected(config)


async def _connect_tea(config: SystemConfig, proxied: SystemConfig) -> None:
    await publish_demo_connection(config, demo_tea_connection(proxied), TEA_CONNECTION_ID)
    await wait_until_connected(config, TEA_CONNECTION_ID, config.ports.ccvshop_tea)


async def _connect_chocolatier(config: SystemConfig, proxied: SystemConfig) -> None:
    # Deliveries are made on request at the end (the books check): none at a set time.
    connection = demo_asperion_connection(proxied, delivery_time="23:59")
    await publish_demo_connection(config, connection, ASPERION_CONNECTION_ID)
    await wait_until_connected(config, ASPERION_CONNECTION_ID, config.ports.ccvshop_asperion)


async def _connect_prestashop(config: SystemConfig, proxied: SystemConfig) -> None:
    from koppel_demo.prestashop import connect_prestashop, demo_prestashop_connection

    await connect_prestashop(config, demo_prestashop_connection(proxied))


def _prestashop_dossier() -> int:
    from koppel_demo.prestashop import PRESTASHOP_DOSSIER_ID

    return int(PRESTASHOP_DOSSIER_ID)


@dataclass
class PairSpec:
    name: str
    connection_id: str
    ingest: str  # the ingest service
    shop: Shop
    ledger: Ledger
    connect: Connect

    @property
    def sandboxes(self) -> list[str]:
        return [s for s in (self.shop.sandbox, self.ledger.sandbox) if s is not None]

    @property
    def sandbox_ports(self) -> dict[str, str]:
        """Sandbox process -> its field in `Ports`."""
        ports = {self.shop.sandbox: self.shop.port_field}
        if self.ledger.sandbox is not None and self.ledger.port_field is not None:
            ports[self.ledger.sandbox] = self.ledger.port_field
        return ports


def pair_table() -> list[PairSpec]:
    """Every pair the demo can have; `available_pairs` keeps those that run."""
    table = [
        PairSpec(
            "CCV Shop → Octopus",
            CONNECTION_ID,
            "ingest-ccv",
            CcvShop("ccvshop-sandbox", "ccvshop"),
            OctopusBooks(DEMO.dossier_id),
            _connect_coffee,
        ),
        PairSpec(
            "CCV Shop → SnelStart",
            TEA_CONNECTION_ID,
            "ingest-ccv",
            CcvShop("ccvshop-tea-sandbox", "ccvshop_tea"),
            SnelStartBooks(),
            _connect_tea,
        ),
        PairSpec(
            "CCV Shop → Asperion",
            ASPERION_CONNECTION_ID,
            "ingest-ccv",
            CcvShop("ccvshop-chocolate-sandbox", "ccvshop_asperion"),
            AsperionBooks(),
            _connect_chocolatier,
        ),
    ]
    try:
        from koppel_demo.prestashop import PRESTASHOP_CONNECTION_ID
    except ImportError:  # a demo without the PrestaShop merchant
        return table
    table.append(
        PairSpec(
            "PrestaShop → Octopus",
            PRESTASHOP_CONNECTION_ID,
            "ingest-prestashop",
            PrestaShopShop(),
            OctopusBooks(_prestashop_dossier()),
            _connect_prestashop,
        )
    )
    return table


def available_pairs(running: set[str]) -> list[PairSpec]:
    """The pairs whose shop sandbox, ingest and ledger service all run."""
    return [
        pair
        for pair in pair_table()
        if {pair.ingest, pair.ledger.service, *pair.sandboxes} <= running
    ]

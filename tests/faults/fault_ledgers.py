"""The ledger side of each pair: the books as the ledger holds them (not as Koppel's own
events say), per order number the documents booked under it, each a total and VAT per rate;
a credit is a document of its own."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

import httpx
from koppel_cli.asperion import read_deliveries, read_zip
from koppel_demo.demo_data import ASPERION_CONNECTION_ID
from koppel_demo.system import SystemConfig, database_prefix
from koppel_sandbox_octopus import OctopusControl
from koppel_sandbox_octopus.demo import VAT_CODES
from koppel_sandbox_octopus.documents import invoice_line_amounts
from koppel_sandbox_snelstart import DEMO as SNELSTART
from koppel_sandbox_snelstart import SnelStartControl
from koppel_ubl import DocumentKind, read_totals


@dataclass(frozen=True)
class Document:
    """One document in a ledger, as the ledger holds it."""

    credit: bool
    total: Decimal
    vat: dict[Decimal, Decimal]


Books = dict[str, list[Document]]  # order number -> documents


class Ledger(Protocol):
    sandbox: str | None  # the ledger's sandbox process, None for a file ledger
    port_field: str | None  # its field in `Ports`
    service: str

    async def books(self, config: SystemConfig) -> Books: ...


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


@dataclass(frozen=True)
class OctopusSalesBooks:
    """Sales bookings (buysellbookings), as a Bol.com connection books them by default."""

    dossier_id: int
    sandbox: str = "octopus-sandbox"
    port_field: str = "octopus"
    service: str = "ledger-octopus"

    async def books(self, config: SystemConfig) -> Books:
        """Per reference (the shop's order number): the booking's `amount` (a credit is
        negative, its lines positive) and VAT per rate from the lines' `vatAmount`."""
        async with OctopusControl(config.url(config.ports.octopus), timeout=300) as octopus:
            bookings = await octopus.buysell_bookings(self.dossier_id)
        books: Books = {}
        for booking in bookings:
            vat: dict[Decimal, Decimal] = {}
            for line in booking.get("bookingLines") or []:
                rate = OCTOPUS_RATES[line["vatCodeKey"]].normalize()
                vat[rate] = vat.get(rate, Decimal(0)) + abs(Decimal(str(line["vatAmount"])))
            total = Decimal(str(booking["amount"]))
            books.setdefault(str(booking.get("reference")), []).append(
                Document(total < 0, abs(total), vat)
            )
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
        database = f"{database_prefix(config)}ledger_asperion"
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

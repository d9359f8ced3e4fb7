"""ingest-bol: bol.com orders onto shop.orders.v1 within minutes of a change.

receive (the leased poll per connection: orders changed, shipments, handled returns)
  -> normalise (fetch the order — or rebuild it from its shipments — and map it, with
     VAT from the connection's tables)
  -> publish (OrderEvent on shop.orders.v1; alerts on ops.alerts.v1)
and, for connections that answer invoice requests:
consume ledger.bookings.v1 (the ledger's document of each order)
  -> answer each open invoice request of a business buyer once, with a UBL invoice.

The ingest runtime (`koppel_ingest`) does the receiving, deciding and publishing; this
service is its bol adapter (`adapter.BolAdapter`) plus the invoice answers (`answers`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from koppel_chassis import ConnectionStore, LeaseStore, SecretBox, Service
from koppel_chassis.connections import COLLECTION as CONNECTIONS_COLLECTION
from koppel_contracts import LEDGER_BOOKINGS, BookingEvent, ShopSystem
from koppel_ingest import IngestRuntime, build_ingest_service
from koppel_ingest.service import LEASES

from .adapter import BolAdapter
from .answer_store import MongoAnswers
from .answers import InvoiceAnswers
from .bookings import MongoBookings, booked_of
from .calls import BolMetrics
from .returns import MongoReturns
from .settings import IngestBolSettings


def build(settings: IngestBolSettings) -> Service:
    made: list[BolAdapter] = []

    def adapter(service: Service, box: SecretBox) -> BolAdapter:
        metrics = BolMetrics(service.registry)
        made.append(BolAdapter(settings, box, MongoReturns(service.db), metrics))
        return made[0]

    service = build_ingest_service(settings, adapter)
    runtime: IngestRuntime = service.runtime  # type: ignore[attr-defined]
    bol = made[0]
    connections = ConnectionStore(service.db[CONNECTIONS_COLLECTION])
    bookings = MongoBookings(service.db)

    # consume: what the ledger booked (its document number) for each bol order
    @service.subscriber(LEDGER_BOOKINGS, purpose="bookings")
    async def on_booking(event: BookingEvent) -> None:
        booked = booked_of(event)
        if booked is None:
            return
        settings_now = await connections.get(event.connection_id)
        if settings_now is not None and settings_now.shop.system == ShopSystem.BOL:
            await bookings.record(booked)

    answers = InvoiceAnswers(
        adapter=bol,
        connections=connections,
        states=runtime.states,
        orders=runtime.store,
        bookings=bookings,
        answers=MongoAnswers(service.db),
        leases=LeaseStore(service.db[LEASES]),
        publisher=service.publisher,
        clock=lambda: datetime.now(UTC),
        interval=timedelta(seconds=settings.invoice_interval_seconds),
        stale=timedelta(seconds=settings.invoice_claim_stale_seconds),
        metrics=bol.metrics,
        reveal=service.revealer.reveal_order,  # type: ignore[attr-defined]
    )
    service.answers = answers  # type: ignore[attr-defined]  # for tests and operators

    # answer: open invoice requests of business buyers, once each
    @service.loop("invoice-requests")
    async def answer_invoice_requests() -> None:
        await answers.run_forever()

    return service

"""Answering business buyers' invoice requests (issue #13 §4), for connections with
`shop.options.answer_invoice_requests`.

Every `invoice_interval_seconds`, per connection (a lease `invoices:<id>`, so one replica
at a time): list the open requests (`GET /retailer/shipments/invoices/requests?state=OPEN`,
all pages) and answer each one whose order is published and booked in its current
revision: the invoice (`invoice.invoice_document`) written as UBL 2.1, validated
(XSD, EN 16931, NLCIUS where claimed), claimed once per request (`answer_store`) and
uploaded (`POST /retailer/shipments/invoices/{shipment-id}`, multipart `invoice`).
A request waits while its order is not booked (yet); one for an order the ledger credited
waits for ever (bol closes it); one no invoice can be written for is `left`, with the
reason. Without the seller's company details nothing is answered and the merchant gets
one alert per settings version.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from koppel_chassis import ExternalError, log_context
from koppel_contracts import (
    OPS_ALERTS,
    AlertEvent,
    AlertKind,
    CanonicalOrder,
    ConnectionSettings,
    ShopSystem,
    SourceSystem,
    make_event_id,
)
from koppel_ingest import OrderRecord, SettingsUnusable
from koppel_ingest.guard import Publisher
from koppel_ingest.poller import Leases
from koppel_ingest.texts import text_for
from koppel_ubl import ArtefactError, validate, write_document

from .adapter import BolAdapter
from .answer_store import Answer, AnswerStore
from .bookings import BookingStore
from .calls import BolMetrics
from .client import BolClient, BolJson
from .invoice import Unanswerable, invoice_document, seller_of
from .texts import SELLER_MISSING, TEXTS

log = logging.getLogger(__name__)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
Outcome = Literal["uploaded", "waiting", "answered", "left", "failed"]


class Orders(Protocol):
    async def order(self, connection_id: str, order_ref: str) -> OrderRecord | None: ...


class Connections(Protocol):
    async def all(self) -> dict[str, ConnectionSettings]: ...
    async def current(self, connection_id: str) -> tuple[ConnectionSettings, int] | None: ...


class States(Protocol):
    async def get(self, connection_id: str) -> object | None: ...
    async def announce(self, cause_id: str, now: datetime) -> bool: ...
    async def unannounce(self, cause_id: str) -> None: ...


def _ms(moment: datetime) -> datetime:
    """To the millisecond, as MongoDB keeps it (a release compares the claim's moment)."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@dataclass
class InvoiceAnswers:
    adapter: BolAdapter
    connections: Connections
    states: States
    orders: Orders
    bookings: BookingStore
    answers: AnswerStore
    leases: Leases
    publisher: Publisher
    clock: Callable[[], datetime]
    interval: timedelta = timedelta(minutes=5)
    stale: timedelta = timedelta(minutes=15)
    metrics: BolMetrics | None = None
    # The order as published is sealed (koppel_privacy): the buyer is revealed for the
    # invoice, in memory. None: orders stored in clear (tests without keys).
    reveal: Callable[[CanonicalOrder], Awaitable[CanonicalOrder]] | None = None

    async def run_forever(self) -> None:
        while True:
            await self.run_once()
            await asyncio.sleep(self.interval.total_seconds())

    async def run_once(self) -> None:
        for connection_id, settings in (await self.connections.all()).items():
            shop = settings.shop
            if settings.active and shop.system == ShopSystem.BOL:
                if shop.options.answer_invoice_requests:
                    try:
                        await self.attend(connection_id)
                    except Exception:
                        log.exception("invoice requests not answered this round")

    async def attend(self, connection_id: str) -> dict[str, Outcome]:
        """One round for one connection: what became of each open request."""
        current = await self.connections.current(connection_id)
        state = await self.states.get(connection_id)
        if current is None or state is None or getattr(state, "broken", False):
            return {}  # not taken in yet, or broken: the poll's alert says why
        settings, version = current
        lease = f"invoices:{connection_id}"
        if not await self.leases.acquire(lease, self.interval):
            return {}
        with log_context(connection_id=connection_id):
            try:
                if seller_of(settings) is None:
                    await self._seller_missing(connection_id, settings, version)
                    return {}
                session = await self.adapter.session(connection_id, settings)
                return await self._round(connection_id, settings, session.client)
            except (ExternalError, SettingsUnusable) as error:
                log.warning("invoice requests not answered this round: %s", error)
                return {}
            finally:
                await self.leases.release(lease)

    async def _round(
        self, connection_id: str, settings: ConnectionSettings, client: BolClient
    ) -> dict[str, Outcome]:
        outcomes: dict[str, Outcome] = {}
        async for request in client.invoice_requests("OPEN"):
            shipment_id = str(request["shipmentId"])
            with log_context(shipment_id=shipment_id, order_ref=request.get("orderId")):
                outcome = await self.answer(connection_id, settings, client, request)
            outcomes[shipment_id] = outcome
            if self.metrics is not None:
                self.metrics.invoices.labels(outcome).inc()
        return outcomes

    async def answer(
        self, connection_id: str, settings: ConnectionSettings, client: BolClient, request: BolJson
    ) -> Outcome:
        shipment_id, order_ref = str(request["shipmentId"]), str(request.get("orderId") or "")
        known = await self.answers.get(connection_id, shipment_id)
        if known is not None:
            if known.state != "claimed" or self.clock() - known.at < self.stale:
                return "answered"
            await self.answers.release(known)  # a crash cut it short; bol still waits
            log.warning("a stale claim of an invoice answer was released")
        record = await self.orders.order(connection_id, order_ref)
        booked = await self.bookings.get(connection_id, order_ref)
        if record is None or record.last_order is None or record.cancelled or booked is None:
            return "waiting"
        if booked.revision != record.revision or not booked.current:
            return "waiting"  # the booking of an earlier revision, or credited
        now = _ms(self.clock())
        claim = Answer(connection_id, shipment_id, order_ref, "claimed", now, booked.number)
        try:
            xml = await self._document(settings, record, request, booked.number)
        except (Unanswerable, ValueError) as refused:
            left = replace(claim, state="left", detail=str(refused))
            if await self.answers.claim(left):
                log.warning("invoice request left to the merchant: %s", refused)
            return "left"
        if not await self.answers.claim(claim):
            return "answered"  # another replica is at it, or did it
        claim = replace(claim, claimed_at=now)
        try:
            status = await client.upload_invoice(shipment_id, xml, f"{booked.number}.xml")
        except ExternalError:
            await self.answers.release(claim)
            log.warning("invoice upload failed; the next round tries again", exc_info=True)
            return "failed"
        done = str(status.get("processStatusId") or "") if isinstance(status, dict) else ""
        await self.answers.settle(replace(claim, state="uploaded", at=now, detail=done or None))
        log.info("invoice request answered", extra={"invoice_number": booked.number})
        return "uploaded"

    async def _document(
        self, settings: ConnectionSettings, record: OrderRecord, request: BolJson, number: str
    ) -> bytes:
        """The validated UBL invoice (raises Unanswerable / ValueError)."""
        seller = seller_of(settings)
        assert seller is not None and record.last_order is not None
        order = CanonicalOrder.model_validate(record.last_order)
        if self.reveal is not None:
            order = await self.reveal(order)  # a key not arrived yet: the next round
        document = invoice_document(
            order,
            request,
            number=number,
            seller=seller,
            booking=settings.ledger.booking,
            issue_date=self.clock().astimezone(AMSTERDAM).date(),
            language=settings.merchant.language,
        )
        xml = write_document(document)
        try:
            report = await asyncio.to_thread(validate, xml)
        except ArtefactError as error:  # the official rules could not be fetched (yet)
            raise ExternalError(f"validation artefacts unavailable: {error}") from None
        if not report.ok:
            raise Unanswerable(f"the invoice breaks {', '.join(report.fatal_ids)}")
        return xml

    async def _seller_missing(
        self, connection_id: str, settings: ConnectionSettings, version: int
    ) -> None:
        cause = make_event_id("bol-invoice-seller-missing", connection_id, str(version))
        if not await self.states.announce(cause, self.clock()):
            return
        reason, suggestion = text_for(TEXTS, SELLER_MISSING, settings.merchant.language)
        event = AlertEvent(
            event_id=make_event_id("alert", cause),
            occurred_at=self.clock(),
            connection_id=connection_id,
            source_system=SourceSystem.BOL,
            correlation_id=connection_id,
            kind=AlertKind.PERSISTENT_FAILURE,
            component=self.adapter.component,
            reason_code=SELLER_MISSING,
            reason=reason,
            suggestion=suggestion,
            cause_id=cause,
        )
        try:
            await self.publisher.publish(OPS_ALERTS, event)
        except Exception:
            await self.states.unannounce(cause)
            raise

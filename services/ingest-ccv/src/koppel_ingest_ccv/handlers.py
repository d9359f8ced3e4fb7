"""Receive -> normalise -> publish for one CCV order, and the alerts around it.

`OrderSync.sync(connection, ccv_order_id)` is the one way an order gets
published, whether a webhook or the reconciliation poll noticed it:
fetch the order (fresh) -> work out which order it is (a CCV re-issue keeps
its order number) -> decide created / amended / cancelled / nothing -> map
-> claim the next revision in MongoDB with the event in the outbox ->
publish -> clear the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from koppel_chassis import (
    ConnectionStore,
    CredentialsError,
    EventPublisher,
    ExternalError,
    KeyedLocks,
    describe_validation_error,
    log_context,
)
from koppel_contracts import (
    OPS_ALERTS,
    SHOP_ORDERS,
    AlertEvent,
    AlertKind,
    CanonicalOrder,
    OrderEvent,
    OrderEventKind,
    OrderStatus,
    SourceSystem,
    make_event_id,
    order_content_hash,
    order_event_id,
    utcnow,
)
from pydantic import ValidationError

from .client import CcvJson
from .connections import Connection, Connections, ConnectionUnusable
from .mapping import (
    CANCELLED,
    MappingError,
    booking_fingerprint,
    is_cancelled,
    map_order,
    order_number,
    order_summary,
    resource_fingerprint,
)
from .state import ConnectionState, ConnectionStates, OrderRef, OrderStore, Publication

log = logging.getLogger(__name__)

COMPONENT = "ingest-ccv"


class ConcurrentChange(Exception):
    """Another replica published this order meanwhile; the poll will look again."""


# --- pure rules -------------------------------------------------------------


def next_kind(ref: OrderRef, fingerprint: str, bookable: bool) -> OrderEventKind | None:
    """What (if anything) to publish for a non-cancelled order in its current form.

    Nothing is published before the order is bookable (the connection's
    trigger); once published, any change of what would be booked is an
    amendment whatever the trigger says; a cancelled order stays cancelled.
    """
    if ref.cancelled:
        return None
    if not ref.published:
        return OrderEventKind.CREATED if bookable else None
    return OrderEventKind.AMENDED if fingerprint != ref.fingerprint else None


def supersedes(ref: OrderRef, source_order_id: str) -> str | None:
    """The CCV id this version replaces, when CCV re-issued the order under a new id."""
    return ref.source_order_id if ref.source_order_id != source_order_id else None


def cancelled_version(order: CanonicalOrder) -> CanonicalOrder:
    """The order as last published, now cancelled."""
    return order.model_copy(
        update={"status": OrderStatus.CANCELLED, "source_status": str(CANCELLED)}
    )


def order_event(
    connection_id: str,
    ref: OrderRef,
    kind: OrderEventKind,
    order: CanonicalOrder,
) -> OrderEvent:
    digest = order_content_hash(order)
    revision = ref.revision + 1
    return OrderEvent(
        event_id=order_event_id(connection_id, ref.order_ref, kind, digest, revision),
        occurred_at=utcnow(),
        connection_id=connection_id,
        source_system=SourceSystem.CCVSHOP,
        correlation_id=f"{connection_id}:{ref.order_ref}",
        kind=kind,
        order_ref=ref.order_ref,
        revision=revision,
        supersedes_source_order_id=supersedes(ref, order.source_order_id),
        content_hash=digest,
        order=order,
    )


# --- alerts -----------------------------------------------------------------

BROKEN_TEXTS: dict[str, tuple[str, str]] = {
    "shop_credentials_refused": (
        "CCV Shop weigert de API-sleutel van deze koppeling: de sleutel is ingetrokken"
        " of het secret klopt niet. Koppel haalt geen bestellingen meer op.",
        "Maak in de backoffice van CCV Shop een nieuwe API-sleutel aan en werk de koppeling"
        " bij met de nieuwe public key en het secret. Bestellingen die intussen betaald"
        " zijn, worden daarna alsnog opgehaald.",
    ),
    "shop_credentials_missing": (
        "De koppeling heeft geen volledige API-sleutel voor CCV Shop (public key en secret).",
        "Vul de public key en het secret van een CCV Shop API-sleutel in bij de koppeling.",
    ),
    "shop_secret_unreadable": (
        "Het opgeslagen secret van de CCV Shop API-sleutel kan niet worden ontsleuteld.",
        "Voer het secret van de CCV Shop API-sleutel opnieuw in bij de koppeling. Blijft dit"
        " gebeuren, neem dan contact op met Koppel.",
    ),
}


class Alerts:
    def __init__(
        self, publisher: EventPublisher, states: ConnectionStates, orders: OrderStore
    ) -> None:
        self.publisher = publisher
        self.states = states
        self.orders = orders

    async def connection_broken(
        self, connection_id: str, version: int, reason_code: str, detail: str
    ) -> None:
        """Mark the connection broken and alert — once per cause (settings version + reason)."""
        cause_id = make_event_id("ccv-connection-broken", connection_id, reason_code, str(version))
        if not await self.states.mark_broken(connection_id, cause_id, reason_code):
            return
        reason, suggestion = BROKEN_TEXTS[reason_code]
        event = AlertEvent(
            event_id=make_event_id("alert", cause_id),
            occurred_at=utcnow(),
            connection_id=connection_id,
            source_system=SourceSystem.CCVSHOP,
            correlation_id=connection_id,
            kind=AlertKind.CONNECTION_BROKEN,
            component=COMPONENT,
            reason_code=reason_code,
            reason=reason,
            suggestion=suggestion,
            cause_id=cause_id,
        )
        try:
            await self.publisher.publish(OPS_ALERTS, event)
        except Exception:
            # Not alerted means not remembered: the next failure tries again.
            await self.states.unmark_broken(connection_id, cause_id)
            raise
        log.warning(
            "connection broken; polling stops until new settings arrive",
            extra={"connection_id": connection_id, "reason_code": reason_code, "detail": detail},
        )

    async def ingest_failure(
        self, connection_id: str, order: CcvJson, order_ref: str, detail: str
    ) -> None:
        """Record an unreadable order and alert — once per order and cause."""
        ccv_order_id = int(order["id"])
        cause_id = make_event_id("ccv-ingest-failure", connection_id, str(ccv_order_id), detail)
        recorded = await self.orders.record_failure(
            cause_id,
            connection_id=connection_id,
            ccv_order_id=ccv_order_id,
            order_ref=order_ref,
            reason=detail,
        )
        if not recorded:
            return
        number = order_number(order) or str(ccv_order_id)
        event = AlertEvent(
            event_id=make_event_id("alert", cause_id),
            occurred_at=utcnow(),
            connection_id=connection_id,
            source_system=SourceSystem.CCVSHOP,
            correlation_id=f"{connection_id}:{order_ref}",
            kind=AlertKind.INGEST_FAILURE,
            component=COMPONENT,
            reason_code="ccv_order_unreadable",
            reason=f"Bestelling {number} uit CCV Shop kan niet worden ingelezen"
            f" (technische melding: {detail}).",
            suggestion="Controleer de bestelling in CCV Shop: orderregels, btw-percentages,"
            " bedragen en het factuuradres met land. Na een correctie wordt de bestelling"
            " vanzelf opnieuw ingelezen.",
            order_ref=order_ref,
            order=order_summary(order),
            cause_id=cause_id,
        )
        try:
            await self.publisher.publish(OPS_ALERTS, event)
        except Exception:
            await self.orders.forget_failure(cause_id)
            raise
        log.warning(
            "ingest failure recorded",
            extra={"connection_id": connection_id, "ccv_order_id": ccv_order_id, "detail": detail},
        )


# --- doing work for a connection --------------------------------------------


class ConnectionGuard:
    """Runs work for one connection and turns failures into the right reaction:
    refused or unusable credentials -> the connection is broken (one alert) and
    left alone until new settings; other API failures -> logged, the poll retries."""

    def __init__(
        self,
        store: ConnectionStore,
        connections: Connections,
        states: ConnectionStates,
        alerts: Alerts,
    ) -> None:
        self.store = store
        self.connections = connections
        self.states = states
        self.alerts = alerts

    async def run(
        self,
        connection_id: str,
        what: str,
        work: Callable[[Connection], Awaitable[None]],
        state: ConnectionState | None = None,
    ) -> None:
        """`state`: the connection's state when the caller has just read it."""
        with log_context(connection_id=connection_id):
            if state is None:
                state = await self.states.get(connection_id)
            if state is None or state.broken:
                return
            try:
                connection = await self.connections.get(connection_id)
                if connection is None:
                    return
                await work(connection)
            except CredentialsError as error:
                version = await self.store.version_of(connection_id) or 0
                await self.alerts.connection_broken(
                    connection_id, version, "shop_credentials_refused", str(error)
                )
            except ConnectionUnusable as error:
                version = await self.store.version_of(connection_id) or 0
                await self.alerts.connection_broken(
                    connection_id, version, error.reason_code, str(error)
                )
            except (ExternalError, ConcurrentChange) as error:
                log.warning(
                    "%s did not complete; the reconciliation poll retries",
                    what,
                    extra={"error": str(error)},
                )


# --- the order --------------------------------------------------------------


class OrderSync:
    def __init__(self, publisher: EventPublisher, orders: OrderStore, alerts: Alerts) -> None:
        self.publisher = publisher
        self.orders = orders
        self.alerts = alerts
        # In this process, a webhook and the poll for one CCV id never interleave
        # (one lock per id, held from the fetch on, so nothing acts on a stale read),
        # nor do the ids of one CCV edit (a re-issue keeps the `ordernumber`: a second
        # lock per order number). Different orders of one shop run side by side.
        # Replicas are kept apart by the conditional claim instead.
        self._locks = KeyedLocks()

    async def sync(self, connection: Connection, ccv_order_id: int) -> None:
        connection_id = connection.connection_id
        async with self._locks.hold((connection_id, "id", ccv_order_id)):
            order = await connection.client.order(ccv_order_id)
            number = order.get("ordernumber") if order is not None else None
            if number is None:
                await self._apply(connection, ccv_order_id, order)
                return
            async with self._locks.hold((connection_id, "ordernumber", str(number))):
                await self._apply(connection, ccv_order_id, order)

    async def flush_outboxes(self, connection_id: str) -> None:
        for ref in await self.orders.with_outbox(connection_id):
            await self._flush(ref)

    async def _sync(self, connection: Connection, ccv_order_id: int) -> None:
        """Fetch and apply, inside locks its caller holds."""
        await self._apply(connection, ccv_order_id, await connection.client.order(ccv_order_id))

    async def _apply(
        self, connection: Connection, ccv_order_id: int, order: CcvJson | None
    ) -> None:
        if order is None:
            await self._gone(connection, ccv_order_id)
            return
        number = order_number(order)
        if order.get("is_completed") is not True or not number:
            return  # an unfinished checkout: nothing to book (yet)
        with log_context(ccv_order_id=ccv_order_id, order_number=number):
            try:
                placed_at = datetime.fromisoformat(str(order.get("create_date")))
            except ValueError:
                await self.alerts.ingest_failure(
                    connection.connection_id, order, str(ccv_order_id), "create_date unreadable"
                )
                return
            ref, seen = await self.orders.resolve(
                connection.connection_id,
                ccv_order_id,
                order_number=number,
                ccv_ordernumber=order.get("ordernumber"),
                placed_at=placed_at,
            )
            if seen.superseded_by is not None:
                return  # an edit re-issued this order; the new id carries it
            ref = await self._flush(ref)
            with log_context(order_ref=ref.order_ref):
                if is_cancelled(order):
                    await self._cancelled(connection, ref, ccv_order_id)
                else:
                    await self._current(connection, ref, order)
            fingerprint = resource_fingerprint(order)
            if fingerprint != seen.resource_fingerprint:  # the poll's "changed?" memory
                await self.orders.remember_resource(
                    connection.connection_id, ccv_order_id, fingerprint
                )

    async def _current(self, connection: Connection, ref: OrderRef, order: CcvJson) -> None:
        bookable = connection.trigger.holds(order)
        if not ref.published and not bookable:
            return  # saves fetching rows for orders that are not bookable yet
        rows = await connection.client.order_rows(int(order["id"]))
        try:
            canonical = map_order(order, rows)
        except MappingError as error:
            await self.alerts.ingest_failure(
                connection.connection_id, order, ref.order_ref, str(error)
            )
            return
        except ValidationError as error:
            detail = describe_validation_error(error)
            await self.alerts.ingest_failure(connection.connection_id, order, ref.order_ref, detail)
            return
        kind = next_kind(ref, booking_fingerprint(canonical), bookable)
        if kind is not None:
            await self._publish(connection.connection_id, ref, kind, canonical)

    async def _cancelled(self, connection: Connection, ref: OrderRef, ccv_order_id: int) -> None:
        if not ref.published or ref.cancelled or ref.source_order_id != str(ccv_order_id):
            return  # never booked, already cancelled, or an older id of the order
        successor = await self._successor(connection, ref, ccv_order_id)
        if successor is not None:
            # CCV cancels the old id when an edit re-issues the order: the order
            # lives on under the new id, as an amendment — not a cancellation.
            await self._sync(connection, successor)
            return
        await self._cancel(connection.connection_id, ref)

    async def _gone(self, connection: Connection, ccv_order_id: int) -> None:
        """CCV no longer knows the id: re-issued under a new id, or removed."""
        seen = await self.orders.seen_order(connection.connection_id, ccv_order_id)
        if seen is None or seen.superseded_by is not None:
            return
        ref = await self.orders.ref(connection.connection_id, seen.order_ref)
        if ref is not None:
            await self._cancelled(connection, await self._flush(ref), ccv_order_id)

    async def _successor(self, connection: Connection, ref: OrderRef, current: int) -> int | None:
        if ref.ccv_ordernumber is None:
            return None
        candidates = [
            int(order["id"])
            async for order in connection.client.orders(ordernumber=ref.ccv_ordernumber)
            if int(order["id"]) != current and not is_cancelled(order)
        ]
        return max(candidates, default=None)

    async def _cancel(self, connection_id: str, ref: OrderRef) -> None:
        if ref.last_order is None:
            raise LookupError(f"order {ref.order_ref} was published but its content is missing")
        order = cancelled_version(CanonicalOrder.model_validate(ref.last_order))
        await self._publish(connection_id, ref, OrderEventKind.CANCELLED, order)

    async def _publish(
        self, connection_id: str, ref: OrderRef, kind: OrderEventKind, order: CanonicalOrder
    ) -> None:
        event = order_event(connection_id, ref, kind, order)
        publication = Publication(
            revision=event.revision,
            fingerprint=booking_fingerprint(order),
            content_hash=event.content_hash,
            source_order_id=order.source_order_id,
            order=order.model_dump(mode="json"),
            cancelled=kind == OrderEventKind.CANCELLED,
            event_json=event.model_dump_json(),
            event_id=event.event_id,
        )
        if not await self.orders.claim(ref, publication):
            raise ConcurrentChange(f"order {ref.order_ref} changed while it was being published")
        await self._send(event)
        log.info(
            "order published",
            extra={"kind": kind.value, "revision": event.revision, "event_id": event.event_id},
        )

    async def _flush(self, ref: OrderRef) -> OrderRef:
        """Publish an event a crash left in the outbox; the order as it stands after."""
        if ref.outbox is None:
            return ref
        await self._send(OrderEvent.model_validate_json(ref.outbox))
        fresh = await self.orders.ref(ref.connection_id, ref.order_ref)
        assert fresh is not None
        return fresh

    async def _send(self, event: OrderEvent) -> None:
        """Publish an event that is in its order's outbox, then clear the outbox."""
        await self.publisher.publish(SHOP_ORDERS, event)
        await self.orders.clear_outbox(event.connection_id, event.order_ref, event.event_id)
        if event.supersedes_source_order_id is not None:
            await self.orders.mark_superseded(
                event.connection_id,
                int(event.supersedes_source_order_id),
                by=int(event.order.source_order_id),
            )

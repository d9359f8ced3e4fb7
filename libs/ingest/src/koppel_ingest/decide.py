"""What happens to an order and a connection — pure functions over typed records, no I/O.

- `next_kind`: a live order in its current form — created, amended, or nothing?
- `on_cancelled`: the shop cancelled an order (or an id of it) — cancel it, or nothing?
- `needs_fetch`: from a poll's list item alone, is the order worth fetching?
- `poll_window`, `poll_due`, `signature_alarm`: the connection's schedule and health.
- `order_event`, `cancelled_version`, `publication`: what gets published.

The runtime (`sync.py`, `poller.py`) carries the results out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from koppel_contracts import (
    CanonicalOrder,
    OrderEvent,
    OrderEventKind,
    OrderStatus,
    SourceSystem,
    content_hash,
    make_event_id,
    order_content_hash,
    order_event_id,
    stable_dump,
)

from .adapter import Candidate
from .records import ConnectionState, OrderRecord, Publication, SourceOrder

# Canonical fields that follow the order's progress rather than what is booked.
PROGRESS_FIELDS = frozenset({"status", "source_status", "paid", "paid_at"})


def booking_fingerprint(order: CanonicalOrder) -> str:
    """What a ledger books: the order without its progress (status, paid flag).

    A status moving from 'in process' to 'sent' changes nothing to book, so it is not
    republished; any change of lines, amounts, customer or source id is."""
    return content_hash(stable_dump(order, exclude=set(PROGRESS_FIELDS)))


# ---- one order ---------------------------------------------------------------------------


def next_kind(record: OrderRecord, fingerprint: str, bookable: bool) -> OrderEventKind | None:
    """What (if anything) to publish for a live order in its current form.

    Nothing is published before the order is bookable (the connection's trigger); once
    published, any change of what would be booked is an amendment whatever the trigger
    says; a cancelled order stays cancelled."""
    if record.cancelled:
        return None
    if not record.published:
        return OrderEventKind.CREATED if bookable else None
    return OrderEventKind.AMENDED if fingerprint != record.fingerprint else None


class OnCancelled(StrEnum):
    NOTHING = "nothing"  # never booked, cancelled already, or an older id of the order
    LOOK_FOR_SUCCESSOR = "look_for_successor"  # a re-issue may carry the order on
    CANCEL = "cancel"


def on_cancelled(record: OrderRecord, source_order_id: str, reissues: bool) -> OnCancelled:
    """The shop cancelled (or removed) `source_order_id` of this order."""
    if not record.published or record.cancelled or record.source_order_id != source_order_id:
        return OnCancelled.NOTHING
    # Shops that re-issue an edited order cancel the old id in the same edit: the order
    # lives on under the new id, as an amendment — not a cancellation.
    if reissues and record.lookup_key is not None:
        return OnCancelled.LOOK_FOR_SUCCESSOR
    return OnCancelled.CANCEL


def supersedes(record: OrderRecord, source_order_id: str) -> str | None:
    """The id this version replaces, when the shop re-issued the order under a new id."""
    return record.source_order_id if record.source_order_id != source_order_id else None


def cancelled_version(order: CanonicalOrder, source_status: str | None) -> CanonicalOrder:
    """The order as last published, now cancelled."""
    return order.model_copy(
        update={"status": OrderStatus.CANCELLED, "source_status": source_status}
    )


def order_event(
    record: OrderRecord,
    kind: OrderEventKind,
    order: CanonicalOrder,
    source_system: SourceSystem,
    now: datetime,
) -> OrderEvent:
    """The next revision's event; its id is derived from the change, so a re-publish of the
    same change has the same id."""
    digest = order_content_hash(order)
    revision = record.revision + 1
    connection_id = record.connection_id
    return OrderEvent(
        event_id=order_event_id(connection_id, record.order_ref, kind, digest, revision),
        occurred_at=now,
        connection_id=connection_id,
        source_system=source_system,
        correlation_id=f"{connection_id}:{record.order_ref}",
        kind=kind,
        order_ref=record.order_ref,
        revision=revision,
        supersedes_source_order_id=supersedes(record, order.source_order_id),
        content_hash=digest,
        order=order,
    )


def publication(event: OrderEvent, now: datetime, fingerprint: str | None = None) -> Publication:
    """`fingerprint`: of the order as the shop gave it, when `event` carries it sealed (the
    next fetch is compared with the shop's order, not with the sealed one)."""
    return Publication(
        connection_id=event.connection_id,
        order_ref=event.order_ref,
        revision=event.revision,
        fingerprint=fingerprint or booking_fingerprint(event.order),
        source_order_id=event.order.source_order_id,
        order=event.order.model_dump(mode="json"),
        cancelled=event.kind == OrderEventKind.CANCELLED,
        event_json=event.model_dump_json(),
        created_at=now,
    )


def published_record(record: OrderRecord, claimed: Publication) -> OrderRecord:
    """The order once revision `claimed` is stored (what the claim writes)."""
    return replace(
        record,
        revision=claimed.revision,
        fingerprint=claimed.fingerprint,
        source_order_id=claimed.source_order_id,
        cancelled=claimed.cancelled,
        last_order=claimed.order,
        pending=claimed.revision,
    )


# ---- the poll ----------------------------------------------------------------------------


def needs_fetch(
    candidate: Candidate,
    source: SourceOrder | None,
    record: OrderRecord | None,
    *,
    number_known: bool,
) -> bool:
    """Whether a listed order needs its (costly) fetch, judged from the list item."""
    if source is None:
        # Unknown id: a re-issue of a known order, or a new one that may be bookable.
        return number_known or candidate.bookable is not False
    if source.superseded_by is not None:
        return False  # a re-issue replaced this id; the new id carries the order
    if record is None or record.pending is not None:
        return True
    if not record.published:
        return candidate.bookable is not False
    if record.cancelled or record.source_order_id != source.source_order_id:
        return False
    if candidate.cancelled:
        return True
    return candidate.fingerprint is None or candidate.fingerprint != source.fingerprint


def poll_window(now: datetime, connected_at: datetime, window: timedelta) -> datetime:
    """The oldest placing time the poll looks at, to the second: nothing before the
    connection was made (there is nothing to catch up on), nothing beyond the window."""
    return max(now - window, connected_at).replace(microsecond=0)


def poll_due(state: ConnectionState, now: datetime, webhooks_address: str | None) -> bool:
    """Work for the connection's leased poller: webhooks to register, or a poll."""
    if state.broken:
        return False
    registering = webhooks_address is not None and state.webhooks_address != webhooks_address
    return registering or state.next_poll_at <= now


@dataclass(frozen=True)
class SignatureVerdict:
    confirmed: int  # refused deliveries whose order the poll found
    alarm: bool


def signature_alarm(refused: list[str], found: set[str], threshold: int) -> SignatureVerdict:
    """Deliveries refused for their signature whose orders exist are not forgeries: when
    `threshold` of them pile up, our check of the (undocumented) scheme is what fails."""
    confirmed = sum(1 for source_id in refused if source_id in found)
    return SignatureVerdict(confirmed, confirmed >= threshold)


# ---- causes: one alert per cause ---------------------------------------------------------


def broken_cause(system: str, connection_id: str, reason_code: str, version: int) -> str:
    return make_event_id(f"{system}-connection-broken", connection_id, reason_code, str(version))


def failure_cause(system: str, connection_id: str, source_order_id: str, detail: str) -> str:
    return make_event_id(f"{system}-ingest-failure", connection_id, source_order_id, detail)


def signature_cause(system: str, connection_id: str, version: int) -> str:
    return make_event_id(f"{system}-webhook-signature", connection_id, str(version))

"""Typed records of the ledger runtime: an order's state, what exists in the ledger, the
outbox. Stored as one MongoDB document per (connection, order) — `to_doc` / `from_doc`
are the only places that know the stored shape.

- `LedgerDoc` — a document that exists in the ledger (an invoice or a credit note), or
  that we are about to create (then it is the `intent`). Ledger-specific details
  (Octopus' book year and journal, SnelStart's booking id) live in `placement`, which
  only the adapter reads.
- `OrderRecord` — the single source of truth of one order in one ledger service.
- `Change` — one atomic write by the order's owner; fields left `KEEP` are not touched,
  so a revision stored meanwhile by the Kafka handler is never overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import Any

from koppel_contracts import ALL_TOPICS, Envelope, Failure, OrderEvent, OrderEventKind, Topic

from .recorded_plan import RecordedLine, RecordedPlan

__all__ = [
    "KEEP",
    "Change",
    "Debtor",
    "LedgerDoc",
    "Op",
    "OrderRecord",
    "OutboxItem",
    "Received",
    "RecordedLine",
    "RecordedPlan",
    "State",
    "aware",
]


class State(StrEnum):
    RECEIVED = "received"
    BOOKING = "booking"
    BOOKED = "booked"
    VERIFIED = "verified"
    MISMATCH = "mismatch"
    WAITING = "waiting"
    FAILED = "failed"
    HELD = "held"
    CREDITED = "credited"
    CANCELLED = "cancelled"
    IGNORED = "ignored"


class Op(StrEnum):
    INVOICE = "invoice"
    CREDIT = "credit"


class Received(StrEnum):
    NEW = "new"
    NEWER = "newer"
    DUPLICATE = "duplicate"


def aware(moment: datetime) -> datetime:
    """MongoDB may hand back naive UTC datetimes (FerretDB does): make them aware."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Debtor:
    """The relation a document is booked on. `id` is the ledger's own id (as text);
    `external_id` our key for it where the ledger has one; `source` how it was chosen
    (fixed | index | created | per_order | collective | found)."""

    id: str | None
    external_id: str | None = None
    source: str = ""
    email: str | None = None

    def label(self) -> str:
        return self.id or self.external_id or "-"


@dataclass(frozen=True)
class LedgerDoc:
    """A document in the ledger: created, found after a crash, or about to be created."""

    op: Op
    revision: int
    number: str
    reference: str
    debtor: Debtor
    plan: RecordedPlan
    placement: dict[str, Any] = field(default_factory=dict)
    ledger_id: str | None = None
    cancels: str | None = None  # a credit note: the number of the document it cancels

    @property
    def expected_total(self) -> Decimal:
        total = self.plan.total_incl_vat
        return -total if self.op == Op.CREDIT else total

    def expected_vat_per_rate(self) -> dict[Decimal, Decimal]:
        sign = Decimal(-1) if self.op == Op.CREDIT else Decimal(1)
        return {rate: vat * sign for rate, vat in self.plan.vat_per_rate().items()}

    def to_doc(self) -> dict[str, Any]:
        return {
            "op": self.op.value,
            "revision": self.revision,
            "number": self.number,
            "reference": self.reference,
            "debtor": {
                "id": self.debtor.id,
                "external_id": self.debtor.external_id,
                "source": self.debtor.source,
                "email": self.debtor.email,
            },
            "plan": self.plan.to_json(),
            "placement": dict(self.placement),
            "ledger_id": self.ledger_id,
            "cancels": self.cancels,
        }

    @classmethod
    def from_doc(cls, data: dict[str, Any]) -> LedgerDoc:
        debtor = data.get("debtor") or {}
        return cls(
            op=Op(data["op"]),
            revision=int(data["revision"]),
            number=str(data["number"]),
            reference=str(data["reference"]),
            debtor=Debtor(
                debtor.get("id"),
                debtor.get("external_id"),
                debtor.get("source") or "",
                debtor.get("email"),
            ),
            plan=RecordedPlan.from_json(data["plan"]),
            placement=dict(data.get("placement") or {}),
            ledger_id=data.get("ledger_id"),
            cancels=data.get("cancels"),
        )

    def with_number(self, number: str) -> LedgerDoc:
        return replace(self, number=number)


# ---- the outbox ------------------------------------------------------------------------

_TOPICS = {t.name: t for t in ALL_TOPICS}


@dataclass(frozen=True)
class OutboxItem:
    topic: Topic
    event: Envelope

    def stored(self) -> dict[str, str]:
        return {"topic": self.topic.name, "json": self._json}

    @cached_property
    def _json(self) -> str:  # written to the store, then kept in the record: dumped once
        return self.event.model_dump_json()

    @classmethod
    def load(cls, stored: dict[str, str]) -> OutboxItem:
        topic = _TOPICS[stored["topic"]]
        return cls(topic, topic.event.model_validate_json(stored["json"]))


# ---- the order's state -----------------------------------------------------------------


@dataclass
class OrderRecord:
    """One order in this ledger service (`id` = `connection_id:order_ref`)."""

    id: str
    connection_id: str
    order_ref: str
    revision: int
    event_json: str
    state: State = State.RECEIVED
    next_attempt_at: datetime | None = None
    attempts: int = 0
    first_failure_at: datetime | None = None
    reason_code: str | None = None
    failure: Failure | None = None
    last_error: str | None = None
    lock_owner: str | None = None
    lock_until: datetime | None = None
    lock_generation: int = 0
    intent: LedgerDoc | None = None
    ledger: LedgerDoc | None = None  # the document that represents the order now
    credits: list[LedgerDoc] = field(default_factory=list)
    last_credit: LedgerDoc | None = None  # the credit note of a cancellation
    booked_revision: int = 0
    checked_revision: int = 0
    done_revision: int = 0
    check_outcome: str | None = None
    outbox: dict[str, dict[str, str]] = field(default_factory=dict)
    calls: int = 0
    updated_at: datetime | None = None
    _event: OrderEvent | None = field(default=None, repr=False, compare=False)
    # Outbox entries this process wrote, as objects: published without parsing them again.
    _written: dict[str, OutboxItem] = field(default_factory=dict, repr=False, compare=False)

    @property
    def event(self) -> OrderEvent:
        if self._event is None or self._event.revision != self.revision:
            self._event = OrderEvent.model_validate_json(self.event_json)
        return self._event

    @property
    def kind(self) -> OrderEventKind:
        return self.event.kind

    def outbox_items(self) -> list[tuple[str, OutboxItem]]:
        return [
            (event_id, self._written.get(event_id) or OutboxItem.load(stored))
            for event_id, stored in self.outbox.items()
        ]

    def credited_numbers(self) -> set[str]:
        return {c.cancels for c in self.credits if c.cancels}

    # --- the stored shape ---------------------------------------------------------------

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> OrderRecord:
        def moment(name: str) -> datetime | None:
            value = doc.get(name)
            return aware(value) if value is not None else None

        def ledger_doc(value: Any) -> LedgerDoc | None:
            return LedgerDoc.from_doc(value) if value else None

        failure = doc.get("failure")
        return cls(
            id=doc["_id"],
            connection_id=doc["connection_id"],
            order_ref=doc["order_ref"],
            revision=int(doc["revision"]),
            event_json=doc["event"],
            state=State(doc.get("state") or State.RECEIVED),
            next_attempt_at=moment("next_attempt_at"),
            attempts=int(doc.get("attempts") or 0),
            first_failure_at=moment("first_failure_at"),
            reason_code=doc.get("reason_code"),
            failure=Failure.model_validate(failure) if failure else None,
            last_error=doc.get("last_error"),
            lock_owner=doc.get("lock_owner"),
            lock_until=moment("lock_until"),
            lock_generation=int(doc.get("lock_generation") or 0),
            intent=ledger_doc(doc.get("intent")),
            ledger=ledger_doc(doc.get("ledger")),
            credits=[LedgerDoc.from_doc(c) for c in doc.get("credits") or []],
            last_credit=ledger_doc(doc.get("last_credit")),
            booked_revision=int(doc.get("booked_revision") or 0),
            checked_revision=int(doc.get("checked_revision") or 0),
            done_revision=int(doc.get("done_revision") or 0),
            check_outcome=doc.get("check_outcome"),
            outbox=dict(doc.get("outbox") or {}),
            calls=int(doc.get("calls") or 0),
            updated_at=moment("updated_at"),
        )


class _Keep:
    """Marker: leave this field as it is."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = _Keep()


@dataclass(frozen=True)
class Change:
    """One write by the owner of an order. `KEEP` fields are not written."""

    state: State = KEEP
    next_attempt_at: datetime | None = KEEP
    attempts: int = KEEP
    first_failure_at: datetime | None = KEEP
    reason_code: str | None = KEEP
    failure: Failure | None = KEEP
    last_error: str | None = KEEP
    intent: LedgerDoc | None = KEEP
    ledger: LedgerDoc | None = KEEP
    add_credit: LedgerDoc | None = None
    last_credit: LedgerDoc | None = KEEP
    booked_revision: int = KEEP
    checked_revision: int = KEEP
    done_revision: int = KEEP
    check_outcome: str | None = KEEP
    outbox: tuple[OutboxItem, ...] = ()
    calls: int = 0  # added to the count

    def written(self) -> dict[str, Any]:
        """The plain fields this change sets (name -> value), in the stored shape."""
        values: dict[str, Any] = {}
        for f in fields(self):
            if f.name in ("add_credit", "outbox", "calls"):
                continue
            value = getattr(self, f.name)
            if value is KEEP:
                continue
            if isinstance(value, LedgerDoc):
                value = value.to_doc()
            elif isinstance(value, Failure):
                value = value.model_dump(mode="json")
            elif isinstance(value, StrEnum):
                value = value.value
            values[f.name] = value
        return values

    def then(self, later: Change) -> Change:
        """This change and `later` as one write (`later` wins where both set a field)."""
        assert self.add_credit is None or later.add_credit is None, "one credit per write"
        merged = {
            f.name: getattr(later, f.name)
            for f in fields(later)
            if getattr(later, f.name) is not KEEP
        }
        merged["add_credit"] = later.add_credit or self.add_credit
        merged["outbox"] = (*self.outbox, *later.outbox)
        merged["calls"] = self.calls + later.calls
        return replace(self, **merged)

    def apply(self, record: OrderRecord) -> None:
        """Keep an in-memory record in step with what was written."""
        for f in fields(self):
            if f.name in ("add_credit", "outbox", "calls"):
                continue
            value = getattr(self, f.name)
            if value is not KEEP:
                setattr(record, f.name, value)
        if self.add_credit is not None:
            record.credits.append(self.add_credit)
        for item in self.outbox:
            record.outbox[item.event.event_id] = item.stored()
            record._written[item.event.event_id] = item
        record.calls += self.calls

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

import json
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from koppel_contracts import ALL_TOPICS, Envelope, Failure, OrderEvent, OrderEventKind, Topic


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


# ---- what was booked ------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedLine:
    kind: str
    description: str
    vat_rate: Decimal
    ledger_account: str
    vat_code: str
    amount_excl_vat: Decimal
    vat_amount: Decimal
    amount_incl_vat: Decimal


_AMOUNTS = ("vat_rate", "amount_excl_vat", "vat_amount", "amount_incl_vat")


@dataclass(frozen=True)
class RecordedPlan:
    """The lines and totals of a booked document (a later credit note mirrors them)."""

    lines: tuple[RecordedLine, ...]
    total_excl_vat: Decimal
    total_vat: Decimal
    total_incl_vat: Decimal
    notices: tuple[tuple[str, str], ...] = ()  # (code, text in the merchant's language)
    treatment: str = "domestic"  # domestic | oss | icp | export (koppel_contracts.VatTreatment)
    country_code: str = ""  # where the goods went (the VAT country for OSS)

    @classmethod
    def of(cls, plan: Any) -> RecordedPlan:
        """From a `koppel_bookkeeping.BookingPlan` (or anything shaped like one)."""
        return cls(
            lines=tuple(
                RecordedLine(
                    kind=str(getattr(ln.kind, "value", ln.kind)),
                    description=ln.description,
                    vat_rate=ln.vat_rate,
                    ledger_account=ln.ledger_account,
                    vat_code=ln.vat_code,
                    amount_excl_vat=ln.amount_excl_vat,
                    vat_amount=ln.vat_amount,
                    amount_incl_vat=ln.amount_incl_vat,
                )
                for ln in plan.lines
            ),
            total_excl_vat=plan.total_excl_vat,
            total_vat=plan.total_vat,
            total_incl_vat=plan.total_incl_vat,
            notices=tuple(
                (str(getattr(n, "code", n)), str(getattr(n, "text", n)))
                for n in getattr(plan, "notices", ())
            ),
            treatment=str(getattr(getattr(plan, "treatment", None), "value", "domestic")),
            country_code=str(getattr(plan, "country_code", "") or ""),
        )

    def notice_texts(self) -> tuple[tuple[str, str], ...]:
        return self.notices

    def bookable_lines(self) -> list[RecordedLine]:
        """Lines worth booking: ledgers (and accountants) dislike zero lines."""
        return [ln for ln in self.lines if ln.amount_excl_vat != 0 or ln.vat_amount != 0]

    def vat_per_rate(self) -> dict[Decimal, Decimal]:
        totals: dict[Decimal, Decimal] = {}
        for line in self.lines:
            totals[line.vat_rate] = totals.get(line.vat_rate, Decimal(0)) + line.vat_amount
        return totals

    def to_json(self) -> str:
        return json.dumps(
            {
                "lines": [{k: str(v) for k, v in vars(ln).items()} for ln in self.lines],
                "total_excl_vat": str(self.total_excl_vat),
                "total_vat": str(self.total_vat),
                "total_incl_vat": str(self.total_incl_vat),
                "notices": [list(n) for n in self.notices],
                "treatment": self.treatment,
                "country_code": self.country_code,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> RecordedPlan:
        data = json.loads(text)
        return cls(
            lines=tuple(
                RecordedLine(**{k: Decimal(v) if k in _AMOUNTS else v for k, v in ln.items()})
                for ln in data["lines"]
            ),
            total_excl_vat=Decimal(data["total_excl_vat"]),
            total_vat=Decimal(data["total_vat"]),
            total_incl_vat=Decimal(data["total_incl_vat"]),
            notices=tuple((str(c), str(t)) for c, t in data.get("notices") or ()),
            treatment=str(data.get("treatment") or "domestic"),
            country_code=str(data.get("country_code") or ""),
        )


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
        return {"topic": self.topic.name, "json": self.event.model_dump_json()}

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

    @property
    def event(self) -> OrderEvent:
        if self._event is None or self._event.revision != self.revision:
            self._event = OrderEvent.model_validate_json(self.event_json)
        return self._event

    @property
    def kind(self) -> OrderEventKind:
        return self.event.kind

    def outbox_items(self) -> list[tuple[str, OutboxItem]]:
        return [(event_id, OutboxItem.load(s)) for event_id, s in self.outbox.items()]

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
        record.calls += self.calls

"""What the ledger booked for each bol order, from `ledger.bookings.v1`.

An invoice that answers a business buyer's request must be the merchant's invoice of
that order: the document the ledger booked, under the ledger's number. The ledger
services publish each booking (keyed `connection_id:order_ref`, with the order's
revision and the ledger's reference); this service keeps the latest per order of its
bol connections (`bol_bookings`, `_id` = connection + order, one consumer per key's
partition, so a read-then-write is safe) and answers a request only when the booking
is of the order's current revision.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Protocol

from koppel_chassis.mongo import AsyncDatabase, Document
from koppel_contracts import BookingEvent, BookingStatus

COLLECTION = "bol_bookings"
# The statuses under which the booking is the order's current document: REPLACED is a
# new document after the earlier one was credited (an amendment).
CURRENT = frozenset({BookingStatus.BOOKED.value, BookingStatus.REPLACED.value})


@dataclass(frozen=True)
class Booked:
    connection_id: str
    order_ref: str
    revision: int
    status: str
    number: str  # the ledger's document number, else its booking id

    @property
    def current(self) -> bool:
        return self.status in CURRENT


def booked_of(event: BookingEvent) -> Booked | None:
    """What an invoice needs of a booking event (None: it says nothing about a document)."""
    ref = event.ledger_ref
    if ref is None or event.status not in (*CURRENT, BookingStatus.CREDITED.value):
        return None
    return Booked(
        connection_id=event.connection_id,
        order_ref=event.order_ref,
        revision=event.order_revision,
        status=event.status.value,
        number=ref.document_number or ref.booking_id,
    )


class BookingStore(Protocol):
    async def record(self, booked: Booked) -> None: ...
    async def get(self, connection_id: str, order_ref: str) -> Booked | None: ...


def _newer(booked: Booked, known: Booked | None) -> bool:
    return known is None or booked.revision >= known.revision


class MemoryBookings:
    def __init__(self) -> None:
        self._booked: dict[tuple[str, str], Booked] = {}

    async def record(self, booked: Booked) -> None:
        key = (booked.connection_id, booked.order_ref)
        if _newer(booked, self._booked.get(key)):
            self._booked[key] = booked

    async def get(self, connection_id: str, order_ref: str) -> Booked | None:
        return self._booked.get((connection_id, order_ref))


class MongoBookings:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db[COLLECTION]

    async def record(self, booked: Booked) -> None:
        key = f"{booked.connection_id}:{booked.order_ref}"
        if _newer(booked, await self.get(booked.connection_id, booked.order_ref)):
            await self.collection.replace_one({"_id": key}, asdict(booked), upsert=True)

    async def get(self, connection_id: str, order_ref: str) -> Booked | None:
        doc = await self.collection.find_one({"_id": f"{connection_id}:{order_ref}"})
        if doc is None:
            return None
        doc.pop("_id")
        return Booked(**doc)

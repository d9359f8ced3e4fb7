"""Held orders and what a restore released: the number in the "works again" mail.

While a ledger refuses a connection's credentials it holds the connection's orders
(a `held` booking per order on `ledger.bookings.v1`). When new settings work, the
ledger books them and, after its first success, publishes `connection_restored`.
The notifier follows the bookings topic for this alone and keeps one small document
per held order (`held_orders`, `_id` = `connection_id|order_ref`):

- `held`: the hold starts (`held_at`); a hold that follows an earlier booking of the
  same order starts a new one;
- `booked` / `replaced` after the hold: the order was booked after all (`booked_at`);
- `credited`, or `failed` for good, after the hold: it left the hold unbooked
  (`left_at`). A transient failure changes nothing: the ledger is still on it.

Bookings of orders that were never held match no document and cost one lookup.
HELD and the bookings that follow are keyed alike (`connection_id:order_ref`), so
they arrive in order on one partition.

**The count.** For a restore R of connection C (its `occurred_at` t_R), with the
restore before it at t_P (or none), the held orders of R are C's orders whose hold
began after t_P and at or before t_R; N is how many of them have been booked. The
restore's notification is due one grouping window after it was recorded and then
waits (rechecked every window) while any of its held orders is neither booked nor
gone, and while the notifier knows none of them yet (its bookings consumer may be
behind its alerts consumer) — at most `RESTORE_WAIT_SECONDS` after it was recorded.
Then N is written into the notification, and its mail goes out. The count depends
on the data only, so two replicas settling the same restore write the same N.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from koppel_chassis import IndexSpec
from koppel_chassis.mongo import AsyncDatabase, Document, DuplicateKeyError
from koppel_contracts import BookingEvent, BookingStatus, FailureKind

from .state import NOTIFICATIONS, Clock, NotificationStatus, notification_id

log = logging.getLogger(__name__)

HELD_ORDERS = "held_orders"
RESTORED = "connection_restored"

INDEXES = [IndexSpec(HELD_ORDERS, [("connection_id", 1), ("held_at", 1)])]

BOOKED = frozenset({BookingStatus.BOOKED, BookingStatus.REPLACED})


@dataclass(frozen=True)
class Tally:
    held: int
    booked: int
    waiting: int

    @property
    def settled(self) -> bool:
        return self.held > 0 and self.waiting == 0


def _left_the_hold(event: BookingEvent) -> bool:
    if event.status == BookingStatus.CREDITED:
        return True
    if event.status != BookingStatus.FAILED:
        return False
    failure = event.failure
    return failure is None or failure.persistent or failure.kind != FailureKind.TRANSIENT


class Releases:
    def __init__(self, db: AsyncDatabase[Document], clock: Clock) -> None:
        self.held = db[HELD_ORDERS]
        self.notifications = db[NOTIFICATIONS]
        self.clock = clock

    # --- following the bookings --------------------------------------------------

    async def booking(self, event: BookingEvent) -> None:
        key = notification_id(event.connection_id, event.order_ref)
        at = event.occurred_at
        if event.status == BookingStatus.HELD:
            await self._held(key, event, at)
        elif event.status in BOOKED:
            await self.held.update_one(
                {"_id": key, "booked_at": None, "left_at": None, "held_at": {"$lte": at}},
                {"$set": {"booked_at": at}},
            )
        elif _left_the_hold(event):
            await self.held.update_one(
                {"_id": key, "booked_at": None, "left_at": None, "held_at": {"$lte": at}},
                {"$set": {"left_at": at}},
            )

    async def _held(self, key: str, event: BookingEvent, at: datetime) -> None:
        doc = await self.held.find_one({"_id": key})
        if doc is None:
            try:
                await self.held.insert_one(
                    {
                        "_id": key,
                        "connection_id": event.connection_id,
                        "order_ref": event.order_ref,
                        "held_at": at,
                        "booked_at": None,
                        "left_at": None,
                    }
                )
            except DuplicateKeyError:
                pass  # a redelivery raced us: the same hold
            return
        ended = doc.get("booked_at") or doc.get("left_at")
        if ended is not None and at > ended:
            # Held again after it was booked (or gave up): a new hold, in a later restore.
            await self.held.update_one(
                {"_id": key}, {"$set": {"held_at": at, "booked_at": None, "left_at": None}}
            )
        # Otherwise: still held (a retry held again), or an old event replayed.

    # --- counting for a restore ----------------------------------------------------

    async def tally(self, connection_id: str, restored_at: datetime) -> Tally:
        """The held orders this restore released, and how many of them were booked."""
        previous = await self.notifications.find_one(
            {"connection_id": connection_id, "kind": RESTORED, "occurred_at": {"$lt": restored_at}},
            sort=[("occurred_at", -1)],
        )
        window: dict[str, Any] = {"$lte": restored_at}
        if previous is not None:
            window["$gt"] = previous["occurred_at"]
        held = booked = waiting = 0
        async for doc in self.held.find({"connection_id": connection_id, "held_at": window}):
            held += 1
            if doc.get("booked_at") is not None:
                booked += 1
            elif doc.get("left_at") is None:
                waiting += 1
        return Tally(held=held, booked=booked, waiting=waiting)

    async def settle(self, connection_id: str, *, wait: timedelta, recheck: timedelta) -> None:
        """Give each due restore of the connection its count, or let it wait a while longer."""
        now = self.clock()
        async for note in self.notifications.find(
            {
                "connection_id": connection_id,
                "kind": RESTORED,
                "status": str(NotificationStatus.PENDING),
                "due_at": {"$lte": now},
            }
        ):
            tally = await self.tally(connection_id, note["occurred_at"])
            pending = {"_id": note["_id"], "status": str(NotificationStatus.PENDING)}
            if not tally.settled and now < note["recorded_at"] + wait:
                await self.notifications.update_one(pending, {"$set": {"due_at": now + recheck}})
                continue
            await self.notifications.update_one(
                pending,
                {
                    "$set": {
                        "item.held_orders": tally.held,
                        "item.held_orders_booked": tally.booked,
                        "item.held_orders_waiting": tally.waiting,
                    }
                },
            )
            log.info(
                "restore counted",
                extra={"held": tally.held, "booked": tally.booked, "waiting": tally.waiting},
            )

    async def purge(self, older_than: datetime) -> int:
        result = await self.held.delete_many({"held_at": {"$lt": older_than}})
        return result.deleted_count

"""In-memory twins of the stores, for fast unit tests of the runtime and the adapters.

They keep the same stored shape (documents as dicts, written through the same
`Change.written()`), so a behaviour that differs from MongoDB shows up in the store
contract tests, which run against both (`koppel_ledger.testing.StoreContract`).
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from koppel_contracts import OrderEvent, order_key

from .clock import Clock, utcnow
from .holds import ConnectionHold
from .records import Change, OrderRecord, Received, State
from .selection import RetrySelection
from .store import Lock, LostLock, new_order_doc, received_fields


class MemoryOrderStore:
    def __init__(self, *, lock_seconds: float, clock: Clock = utcnow) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.locks: dict[str, datetime] = {}
        self.hints: dict[str, datetime] = {}
        self.lock = timedelta(seconds=lock_seconds)
        self.clock = clock
        self.owner = f"memory-{uuid.uuid4().hex[:8]}"

    def _record(self, order_id: str) -> OrderRecord | None:
        doc = self.docs.get(order_id)
        return OrderRecord.from_doc(copy.deepcopy(doc)) if doc is not None else None

    async def receive(self, event: OrderEvent) -> tuple[Received, OrderRecord | None]:
        now = self.clock()
        order_id = order_key(event.connection_id, event.order_ref)
        fields, first = received_fields(event, now)
        doc = self.docs.get(order_id)
        if doc is not None and doc["revision"] >= event.revision:
            return Received.DUPLICATE, None
        if doc is None:
            doc = self.docs[order_id] = {"_id": order_id, **first}
        doc.update(fields)
        new = doc.get("first_revision") == event.revision
        return (Received.NEW if new else Received.NEWER), self._record(order_id)

    async def receive_new(self, events: list[OrderEvent]) -> list[OrderRecord | None]:
        now = self.clock()
        owned: list[OrderRecord | None] = []
        for event in events:
            doc = new_order_doc(event, now, self._token(), self.lock)
            if doc["_id"] in self.docs:
                owned.append(None)
                continue
            self.docs[doc["_id"]] = doc
            owned.append(self._record(doc["_id"]))
        return owned

    def _token(self) -> str:
        return f"{self.owner}:{uuid.uuid4().hex[:8]}"

    async def get(self, order_id: str) -> OrderRecord | None:
        return self._record(order_id)

    async def claim(self, order_id: str, record: OrderRecord | None = None) -> OrderRecord | None:
        now = self.clock()
        doc = self.docs.get(order_id)
        if doc is None:
            return None
        until = doc.get("lock_until")
        if until is not None and until >= now:
            return None
        generation = int(doc.get("lock_generation") or 0) + 1
        lock_id = f"{order_id}|{generation}"
        if lock_id in self.locks:
            return None
        self.locks[lock_id] = now
        doc.update(
            lock_owner=self._token(),
            lock_until=now + self.lock,
            lock_generation=generation,
        )
        return self._record(order_id)

    async def write(
        self,
        order_id: str,
        lock: Lock,
        change: Change,
        *,
        revision: int | None = None,
        release: bool = False,
    ) -> bool:
        now = self.clock()
        doc = self.docs.get(order_id)
        if doc is None or doc.get("lock_owner") != lock.owner:
            raise LostLock(order_id)
        if revision is not None and doc["revision"] != revision:
            return False
        doc.update(copy.deepcopy(change.written()))
        doc["updated_at"] = now
        outbox = doc.setdefault("outbox", {})
        for item in change.outbox:
            outbox[item.event.event_id] = item.stored()
        if change.add_credit is not None:
            doc.setdefault("credits", []).append(change.add_credit.to_doc())
        doc["calls"] = int(doc.get("calls") or 0) + change.calls
        if release:
            doc.update(lock_owner=None, lock_until=None)
            self.locks.pop(f"{order_id}|{lock.generation}", None)
        else:
            doc["lock_until"] = now + self.lock
        return True

    async def release(self, order_id: str, lock: Lock) -> None:
        doc = self.docs.get(order_id)
        if doc is not None and doc.get("lock_owner") == lock.owner:
            doc.update(lock_owner=None, lock_until=None)
            self.locks.pop(f"{order_id}|{lock.generation}", None)

    async def purge_locks(self, older_than: timedelta) -> int:
        cutoff = self.clock() - older_than
        old = [key for key, at in self.locks.items() if at < cutoff]
        for key in old:
            del self.locks[key]
        return len(old)

    async def count_locks(self) -> int:
        return len(self.locks)

    async def add_calls(self, order_id: str, calls: int) -> None:
        doc = self.docs.get(order_id)
        if doc is not None:
            doc["calls"] = int(doc.get("calls") or 0) + calls

    async def published(self, order_id: str, event_ids: list[str]) -> None:
        doc = self.docs.get(order_id)
        if doc is not None:
            for event_id in event_ids:
                doc.get("outbox", {}).pop(event_id, None)

    async def with_unpublished(self, older_than: timedelta, limit: int) -> list[OrderRecord]:
        cutoff = self.clock() - older_than
        found = [
            order_id
            for order_id, doc in self.docs.items()
            if doc.get("outbox") and doc["updated_at"] < cutoff
        ]
        return [r for r in (self._record(i) for i in found[:limit]) if r is not None]

    async def schedule(self, order_id: str, at: datetime, *, unless_sooner: bool = False) -> None:
        known = self.hints.get(order_id)
        self.hints[order_id] = min(at, known) if unless_sooner and known is not None else at

    async def schedule_if_missing(self, order_id: str, at: datetime) -> None:
        self.hints.setdefault(order_id, at)

    async def due(self, limit: int) -> list[tuple[str, datetime]]:
        now = self.clock()
        due = sorted((at, order_id) for order_id, at in self.hints.items() if at <= now)
        return [(order_id, at) for at, order_id in due[:limit]]

    async def settle(self, order_id: str, hint_at: datetime) -> None:
        doc = self.docs.get(order_id)
        if self.hints.get(order_id) != hint_at:
            return
        if doc is None or (doc.get("next_attempt_at") is None and not doc.get("outbox")):
            del self.hints[order_id]
            return
        at = doc.get("next_attempt_at") or self.clock()
        until = doc.get("lock_until")
        self.hints[order_id] = until if until is not None and until > at else at

    async def unscheduled(self, limit: int) -> list[tuple[str, datetime]]:
        now = self.clock()
        found = [
            (order_id, doc["next_attempt_at"])
            for order_id, doc in self.docs.items()
            if doc.get("next_attempt_at") is not None and doc["next_attempt_at"] <= now
        ]
        return [(i, at) for i, at in found[:limit] if i not in self.hints]

    async def resume_connection(self, connection_id: str, fixable: frozenset[str]) -> int:
        def resumable(doc: dict[str, Any]) -> bool:
            state, reason = doc.get("state"), doc.get("reason_code")
            return doc["connection_id"] == connection_id and (
                state == State.HELD
                or (
                    state == State.WAITING and reason in ("settings_pending", "connection_inactive")
                )
                or (state == State.FAILED and reason in fixable)
            )

        return len(self._resume(resumable))

    async def retry(self, selection: RetrySelection) -> list[str]:
        return self._resume(selection.matches)

    def _resume(self, selects: Callable[[dict[str, Any]], bool]) -> list[str]:
        now = self.clock()
        resumed: list[str] = []
        for order_id, doc in self.docs.items():
            if not selects(doc):
                continue
            self.hints[order_id] = now
            doc.update(
                next_attempt_at=now,
                done_revision=0,
                attempts=0,
                first_failure_at=None,
                updated_at=now,
            )
            resumed.append(order_id)
        return resumed


class MemoryHoldStore:
    """The in-memory twin of `holds.HoldStore`."""

    def __init__(self, clock: Clock = utcnow) -> None:
        self.holds: dict[str, ConnectionHold] = {}
        self.announced: set[str] = set()
        self.clock = clock

    async def get(self, connection_id: str) -> ConnectionHold | None:
        return self.holds.get(connection_id)

    def forget(self, connection_id: str) -> None:
        """No cache here."""

    def _announce(self, event_ids: list[str]) -> bool:
        new = [e for e in event_ids if e not in self.announced]
        self.announced.update(new)
        return bool(new)

    async def hold(self, connection_id: str, version: int, reason: str, outbox: list[Any]) -> bool:
        known = self.holds.get(connection_id) or ConnectionHold(connection_id)
        if known.settings_version is not None and known.settings_version > version:
            return False
        known.held, known.settings_version, known.reason = True, version, reason
        known.updated_at = self.clock()
        for item in outbox:
            known.outbox[item.event.event_id] = item.stored()
        self.holds[connection_id] = known
        return self._announce([item.event.event_id for item in outbox])

    async def release(self, connection_id: str, version: int) -> bool:
        known = self.holds.get(connection_id)
        if known is None or not known.held or (known.settings_version or 0) >= version:
            return False
        known.held, known.restore_pending = False, True
        return True

    async def quiet(self, connection_id: str, until: datetime) -> None:
        known = self.holds.setdefault(connection_id, ConnectionHold(connection_id))
        known.quiet_until = max(until, known.quiet_until) if known.quiet_until else until

    async def restored(self, connection_id: str, outbox: list[Any]) -> bool:
        known = self.holds.get(connection_id)
        if known is None or known.held or not known.restore_pending:
            return False
        known.restore_pending = False
        for item in outbox:
            known.outbox[item.event.event_id] = item.stored()
        return self._announce([item.event.event_id for item in outbox])

    async def published(self, connection_id: str, event_id: str) -> None:
        known = self.holds.get(connection_id)
        if known is not None:
            known.outbox.pop(event_id, None)

    async def with_unpublished(self, older_than: timedelta) -> list[ConnectionHold]:
        cutoff = self.clock() - older_than
        return [
            h
            for h in self.holds.values()
            if h.outbox and (h.updated_at is None or h.updated_at < cutoff)
        ]

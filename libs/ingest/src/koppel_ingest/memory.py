"""In-memory twins of the stores and leases, for the contract suite and fast tests.

They keep the stored shape (records written through `to_doc`, read through `from_doc`)
and the same exclusivity: a "unique insert" is a check and a set with no await between
them. The store contract runs against these and the real MongoDB-compatible server.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from .clock import Clock, utcnow
from .records import ConnectionState, IngestFailure, OrderRecord, Publication, SourceOrder, key
from .states import first_state, new_version
from .store import Resolving, claim_fields, failure_doc, failure_of

Doc = dict[str, Any]


class MemoryOrderStore(Resolving):
    def __init__(self) -> None:
        self.orders: dict[str, Doc] = {}
        self.sources: dict[str, Doc] = {}
        self.numbers: dict[str, str] = {}
        self.entries: dict[str, Doc] = {}
        self.unbookable: dict[str, Doc] = {}
        self.failed: dict[str, Doc] = {}

    async def source(self, connection_id: str, source_order_id: str) -> SourceOrder | None:
        doc = self.sources.get(key(connection_id, source_order_id))
        return SourceOrder.from_doc(copy.deepcopy(doc)) if doc else None

    async def order(self, connection_id: str, order_ref: str) -> OrderRecord | None:
        doc = self.orders.get(key(connection_id, order_ref))
        return OrderRecord.from_doc(copy.deepcopy(doc)) if doc else None

    async def order_with_number(self, connection_id: str, number: str) -> OrderRecord | None:
        order_ref = self.numbers.get(key(connection_id, number))
        return await self.order(connection_id, order_ref) if order_ref else None

    async def _take_number(self, connection_id: str, number: str, order_ref: str) -> str:
        return self.numbers.setdefault(key(connection_id, number), order_ref)

    async def _insert_order(self, record: OrderRecord) -> bool:
        if record.id in self.orders:
            return False
        self.orders[record.id] = record.to_doc()
        return True

    async def _insert_source(self, seen: SourceOrder) -> bool:
        if seen.id in self.sources:
            return False
        self.sources[seen.id] = seen.to_doc()
        return True

    async def remember_fingerprint(
        self, connection_id: str, source_order_id: str, fingerprint: str | None
    ) -> None:
        doc = self.sources.get(key(connection_id, source_order_id))
        if doc is not None:
            doc["fingerprint"] = fingerprint

    async def mark_superseded(self, connection_id: str, source_order_id: str, by: str) -> None:
        doc = self.sources.get(key(connection_id, source_order_id))
        if doc is not None:
            doc["superseded_by"] = by

    async def claim(self, record: OrderRecord, claimed: Publication) -> bool:
        if claimed.id in self.entries:
            return False
        self.entries[claimed.id] = claimed.to_doc()
        doc = self.orders.get(record.id)
        if doc is None or doc["revision"] != record.revision or doc.get("pending") is not None:
            del self.entries[claimed.id]
            return False
        doc.update(copy.deepcopy(claim_fields(claimed)))
        return True

    async def entry(self, connection_id: str, order_ref: str, revision: int) -> Publication | None:
        doc = self.entries.get(f"{key(connection_id, order_ref)}#{revision}")
        return Publication.from_doc(doc) if doc else None

    async def adopt(self, claimed: Publication) -> bool:
        doc = self.orders.get(key(claimed.connection_id, claimed.order_ref))
        if doc is None or doc["revision"] != claimed.revision - 1 or doc.get("pending"):
            return False
        doc.update(copy.deepcopy(claim_fields(claimed)))
        return True

    async def published(self, claimed: Publication) -> None:
        self.entries.pop(claimed.id, None)
        doc = self.orders.get(key(claimed.connection_id, claimed.order_ref))
        if doc is not None and doc.get("pending") == claimed.revision:
            doc["pending"] = None

    async def clear_pending(self, record: OrderRecord) -> None:
        doc = self.orders.get(record.id)
        if doc is not None and doc.get("pending") == record.pending:
            doc["pending"] = None

    async def outbox(self, connection_id: str, created_before: datetime) -> list[Publication]:
        found = [
            Publication.from_doc(doc)
            for doc in self.entries.values()
            if doc["connection_id"] == connection_id and doc["created_at"] < created_before
        ]
        return sorted(found, key=lambda p: (p.order_ref, p.revision))

    async def published_since(self, connection_id: str, since: datetime) -> list[OrderRecord]:
        return [
            OrderRecord.from_doc(copy.deepcopy(doc))
            for doc in self.orders.values()
            if doc["connection_id"] == connection_id
            and doc["revision"] > 0
            and not doc["cancelled"]
            and doc["placed_at"] >= since
        ]

    async def watch(self, connection_id: str, source_order_id: str, at: datetime) -> None:
        self.unbookable.setdefault(
            key(connection_id, source_order_id),
            {"connection_id": connection_id, "source_order_id": source_order_id, "at": at},
        )

    async def unwatch(self, connection_id: str, source_order_id: str) -> None:
        self.unbookable.pop(key(connection_id, source_order_id), None)

    async def watched(self, connection_id: str, since: datetime | None = None) -> list[str]:
        docs = [
            d
            for d in self.unbookable.values()
            if d["connection_id"] == connection_id and (since is None or d["at"] >= since)
        ]
        return [d["source_order_id"] for d in sorted(docs, key=lambda d: d["at"])]

    async def forget_watched(self, before: datetime) -> int:
        old = [k for k, d in self.unbookable.items() if d["at"] < before]
        for k in old:
            del self.unbookable[k]
        return len(old)

    async def record_failure(self, failure: IngestFailure) -> bool:
        if failure.cause_id in self.failed:
            return False
        self.failed[failure.cause_id] = failure_doc(failure)
        return True

    async def forget_failure(self, cause_id: str) -> None:
        self.failed.pop(cause_id, None)

    async def failures(self, connection_id: str) -> list[IngestFailure]:
        docs = [d for d in self.failed.values() if d["connection_id"] == connection_id]
        return [failure_of(d) for d in sorted(docs, key=lambda d: d["failed_at"])]


class MemoryStateStore:
    def __init__(self) -> None:
        self.states: dict[str, ConnectionState] = {}
        self.announced: dict[str, datetime] = {}
        self.refusals: dict[str, tuple[str, str, datetime]] = {}

    async def get(self, connection_id: str) -> ConnectionState | None:
        return self.states.get(connection_id)

    async def settings_arrived(
        self, connection_id: str, version: int, now: datetime, first_poll_after: timedelta
    ) -> ConnectionState:
        known = self.states.get(connection_id)
        if known is None:
            known = first_state(connection_id, version, now, first_poll_after)
        elif known.settings_version < version:
            known = ConnectionState.from_doc({**known.to_doc(), **new_version(version, now)})
        self.states[connection_id] = known
        return known

    def _change(self, connection_id: str, **changes: Any) -> None:
        known = self.states.get(connection_id)
        if known is not None:
            self.states[connection_id] = replace(known, **changes)

    async def polled(self, connection_id: str, next_poll_at: datetime, cursor: str | None) -> None:
        self._change(connection_id, next_poll_at=next_poll_at, cursor=cursor)

    async def save_webhooks(self, connection_id: str, address: str, webhooks: list[Any]) -> None:
        self._change(connection_id, webhooks_address=address, webhooks=tuple(webhooks))

    async def mark_broken(self, connection_id: str, cause_id: str, reason_code: str) -> None:
        self._change(connection_id, broken_cause=cause_id, broken_reason=reason_code)

    async def unmark_broken(self, connection_id: str, cause_id: str) -> None:
        known = self.states.get(connection_id)
        if known is not None and known.broken_cause == cause_id:
            self._change(connection_id, broken_cause=None, broken_reason=None)

    async def announce(self, cause_id: str, at: datetime) -> bool:
        if cause_id in self.announced:
            return False
        self.announced[cause_id] = at
        return True

    async def unannounce(self, cause_id: str) -> None:
        self.announced.pop(cause_id, None)

    async def refused(self, connection_id: str, source_order_id: str, at: datetime) -> None:
        self.refusals.setdefault(
            key(connection_id, source_order_id), (connection_id, source_order_id, at)
        )

    async def refused_orders(self, connection_id: str) -> list[str]:
        return [s for c, s, _ in self.refusals.values() if c == connection_id]

    async def purge_refused(self, before: datetime) -> int:
        old = [k for k, (_, _, at) in self.refusals.items() if at < before]
        for k in old:
            del self.refusals[k]
        return len(old)


class MemoryLeases:
    """The in-memory twin of `koppel_chassis.LeaseStore`: one holder per name until the
    lease expires or is released; released leases leave nothing behind."""

    def __init__(
        self, holder: str | None = None, clock: Clock = utcnow, shared: dict[str, Any] | None = None
    ) -> None:
        self.leases: dict[str, tuple[str, datetime]] = shared if shared is not None else {}
        self.holder = holder or f"memory-{uuid.uuid4().hex[:8]}"
        self.clock = clock

    def replica(self, holder: str | None = None) -> MemoryLeases:
        """Another replica's view of the same leases."""
        return MemoryLeases(holder, self.clock, self.leases)  # type: ignore[arg-type]

    async def acquire(self, name: str, ttl: timedelta) -> bool:
        now = self.clock()
        current = self.leases.get(name)
        if current is not None and current[1] >= now and current[0] != self.holder:
            return False
        self.leases[name] = (self.holder, now + ttl)
        return True

    async def renew(self, name: str, ttl: timedelta) -> bool:
        current = self.leases.get(name)
        now = self.clock()
        if current is None or current[0] != self.holder or current[1] < now:
            return False
        self.leases[name] = (self.holder, now + ttl)
        return True

    async def release(self, name: str) -> None:
        current = self.leases.get(name)
        if current is not None and current[0] == self.holder and current[1] >= self.clock():
            del self.leases[name]

    async def holder_of(self, name: str) -> str | None:
        current = self.leases.get(name)
        return current[0] if current is not None and current[1] >= self.clock() else None

    async def purge_expired(self, grace: timedelta = timedelta(hours=1)) -> int:
        cutoff = self.clock() - grace
        old = [name for name, (_, until) in self.leases.items() if until < cutoff]
        for name in old:
            del self.leases[name]
        return len(old)

    async def count(self) -> int:
        return len(self.leases)

"""Which orders a person or new settings give a new chance (the dashboard's Verwerk /
Verwerk alle, a connection's settings changed): the query for MongoDB and the same
predicate for the in-memory twin."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from koppel_contracts import LedgerCommand, LedgerCommandKind, order_key

from .records import State, aware


def resumable(connection_id: str, fixable: frozenset[str]) -> dict[str, Any]:
    """Orders new settings give a new chance: held, waiting for settings, or failed for a
    reason the settings can fix."""
    return {
        "connection_id": connection_id,
        "$or": [
            {"state": State.HELD.value},
            {"state": State.WAITING.value, "reason_code": "settings_pending"},
            {"state": State.WAITING.value, "reason_code": "connection_inactive"},
            {"state": State.FAILED.value, "reason_code": {"$in": sorted(fixable)}},
        ],
    }


RETRYABLE = frozenset({State.FAILED, State.HELD, State.WAITING})


@dataclass(frozen=True)
class RetrySelection:
    """Orders a person asked to book again now (the dashboard's Verwerk / Verwerk alle):
    one order, or a connection's orders in some states received since a moment. Only
    orders that are not booked can be selected; booked ones have nothing to retry."""

    connection_id: str
    order_ref: str | None = None
    states: frozenset[State] = frozenset({State.FAILED})
    since: datetime | None = None

    @classmethod
    def of(cls, command: LedgerCommand) -> RetrySelection:
        wanted = {State(s) for s in command.states if s in {r.value for r in RETRYABLE}}
        if command.kind is LedgerCommandKind.RETRY_ORDER:
            return cls(command.connection_id, command.order_ref, RETRYABLE)
        return cls(command.connection_id, None, frozenset(wanted), command.since)

    def query(self) -> dict[str, Any]:
        query: dict[str, Any] = {
            "connection_id": self.connection_id,
            "state": {"$in": sorted(s.value for s in self.states & RETRYABLE)},
        }
        if self.order_ref is not None:
            query["_id"] = order_key(self.connection_id, self.order_ref)
        if self.since is not None:
            query["created_at"] = {"$gte": self.since}
        return query

    def matches(self, doc: dict[str, Any]) -> bool:
        """`query()` for the in-memory twin."""
        return (
            doc.get("connection_id") == self.connection_id
            and doc.get("state") in {s.value for s in self.states & RETRYABLE}
            and (self.order_ref is None or doc.get("order_ref") == self.order_ref)
            and (self.since is None or aware(doc["created_at"]) >= self.since)
        )

"""The dashboard's read models: what the topics said about each order, in its own MongoDB.

One document per order *and source* (`_id` = the order key `connection_id:order_ref`):
`shop_orders` (shop.orders.v1), `bookings` (ledger.bookings.v1), `checks`
(ledger.checks.v1) and `order_alerts` (ops.alerts.v1 with an order). Each collection has
exactly one writer per order — the consumer of its topic, where one order's events arrive
in order on one partition — so a read-modify-write by `_id` is safe on FerretDB too
(whose conditional updates are not exclusive, docs/CONVENTIONS.md). Each document keeps the
latest state of its source and that source's events for the order's timeline, with their
payloads (secrets masked). A redelivered event is recognised by its event id and changes
nothing. Commands the dashboard sends for an order are one insert each in `order_actions`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from koppel_chassis.mongo import AsyncDatabase, Document, DuplicateKeyError, IndexSpec
from koppel_contracts import (
    AlertEvent,
    BookingEvent,
    CanonicalOrder,
    CheckEvent,
    ConnectionAnswer,
    Envelope,
    OrderEvent,
    OrderEventKind,
    SettingsApplied,
    order_key,
)

from .amounts import rate_key, rates_from_pairs, rates_to_strings, shop_vat_per_rate
from .masking import mask

log = logging.getLogger(__name__)

SHOP_ORDERS = "shop_orders"
BOOKINGS = "bookings"
CHECKS = "checks"
ORDER_ALERTS = "order_alerts"
CONNECTION_ALERTS = "connection_alerts"
ORDER_ACTIONS = "order_actions"
APPLIED = "settings_applied"
ANSWERS = "answers"
CATALOGS = "catalogs"
ORDER_SOURCES = (SHOP_ORDERS, BOOKINGS, CHECKS, ORDER_ALERTS)

INDEXES = [
    IndexSpec(SHOP_ORDERS, [("connection_id", 1), ("placed_on", 1)]),
    IndexSpec(BOOKINGS, [("connection_id", 1)]),
    IndexSpec(CHECKS, [("connection_id", 1)]),
    IndexSpec(ORDER_ALERTS, [("connection_id", 1)]),
    IndexSpec(ORDER_ACTIONS, [("key", 1)]),
    IndexSpec(ANSWERS, [("connection_id", 1)]),
]

LEDGER_ZONE = ZoneInfo("Europe/Amsterdam")


def now() -> datetime:
    return datetime.now(UTC)


def entry(topic: str, kind: str, event: Envelope, summary: Mapping[str, Any]) -> Document:
    """One timeline entry: what happened, when, and the event as it was (secrets masked)."""
    return {
        "event_id": event.event_id,
        "topic": topic,
        "kind": kind,
        "at": event.occurred_at,
        "source": str(event.source_system),
        "summary": dict(summary),
        "payload": mask(event.model_dump(mode="json")),
    }


class ReadModel:
    def __init__(self, db: AsyncDatabase[Document], timeline_limit: int = 100) -> None:
        self.db = db
        self.limit = timeline_limit

    async def _record(
        self, collection: str, key: str, new: Document, fields: Mapping[str, Any], latest: bool
    ) -> bool:
        """Add `new` to the document's events and, when `latest`, set its state `fields`.
        False when the event was recorded before (a redelivery)."""
        coll = self.db[collection]
        doc = await coll.find_one({"_id": key}) or {"_id": key, "events": []}
        if any(e["event_id"] == new["event_id"] for e in doc["events"]):
            return False
        doc["events"] = [*doc["events"], new][-self.limit :]
        if latest or "state" not in doc:
            doc["state"] = dict(fields)
        doc["connection_id"] = fields["connection_id"]
        doc.update({k: fields[k] for k in ("placed_on",) if k in fields and latest})
        doc["updated_at"] = now()
        await coll.replace_one({"_id": key}, doc, upsert=True)
        return True

    # --- consumers --------------------------------------------------------------

    async def order_event(
        self, event: OrderEvent, topic: str, revealed: CanonicalOrder | None = None
    ) -> bool:
        """`revealed`: the order with its customer's data (`privacy.CustomerNames`), for the
        name; the timeline keeps the event as it came (sealed)."""
        order = event.order
        key = order_key(event.connection_id, event.order_ref)
        stored = await self.db[SHOP_ORDERS].find_one({"_id": key}, {"state.revision": 1})
        latest = stored is None or event.revision >= stored.get("state", {}).get("revision", 0)
        customer = (revealed or order).customer
        name = " ".join(p for p in (customer.first_name, customer.last_name) if p)
        placed_on = order.placed_at.astimezone(LEDGER_ZONE).date().isoformat()
        fields = {
            "connection_id": event.connection_id,
            "order_ref": event.order_ref,
            "order_number": order.order_number,
            "source_order_id": order.source_order_id,
            "source_system": str(event.source_system),
            "kind": str(event.kind),
            "revision": event.revision,
            "placed_at": order.placed_at,
            "placed_on": placed_on,
            "paid": order.paid,
            "cancelled": event.kind is OrderEventKind.CANCELLED,
            "status": str(order.status),
            "source_status": order.source_status,
            "currency": order.currency,
            "total_incl_vat": format(order.totals.total_incl_vat, "f"),
            "total_excl_vat": format(order.totals.total_excl_vat, "f"),
            "total_vat": format(order.totals.total_vat, "f"),
            "vat": rates_to_strings(shop_vat_per_rate(order)),
            "customer_name": customer.company_name or name or customer.email,
            "privacy_key_id": order.personal_data.key_id if order.personal_data else None,
            "payment_method": order.payment_method,
        }
        summary = {
            "revision": event.revision,
            "order_number": order.order_number,
            "total_incl_vat": fields["total_incl_vat"],
            "currency": order.currency,
        }
        return await self._record(
            SHOP_ORDERS, key, entry(topic, f"order_{event.kind}", event, summary), fields, latest
        )

    async def booking_event(self, event: BookingEvent, topic: str) -> bool:
        key = order_key(event.connection_id, event.order_ref)
        failure = event.failure.model_dump(mode="json") if event.failure else None
        ref = event.ledger_ref.model_dump(mode="json") if event.ledger_ref else None
        fields = {
            "connection_id": event.connection_id,
            "order_ref": event.order_ref,
            "status": str(event.status),
            "revision": event.order_revision,
            "ledger_system": str(event.source_system),
            "order": event.order.model_dump(mode="json"),
            "placed_on": event.order.placed_on.isoformat(),
            "ledger_ref": ref,
            "failure": failure,
            "notices": [n.model_dump(mode="json") for n in event.notices],
            "at": event.occurred_at,
        }
        summary = {"revision": event.order_revision, "ledger_ref": ref, "failure": failure}
        # Events of one order arrive in order on one partition: the last one is the state.
        return await self._record(
            BOOKINGS, key, entry(topic, f"booking_{event.status}", event, summary), fields, True
        )

    async def check_event(self, event: CheckEvent, topic: str) -> bool:
        key = order_key(event.connection_id, event.order_ref)
        booked_vat = None
        if event.booked_vat is not None:
            booked_vat = {rate_key(r.vat_rate): format(r.amount, "f") for r in event.booked_vat}
        fields = {
            "connection_id": event.connection_id,
            "order_ref": event.order_ref,
            "outcome": str(event.outcome),
            "revision": event.order_revision,
            "ledger_ref": event.ledger_ref.model_dump(mode="json"),
            "expected_total_incl_vat": format(event.expected_total_incl_vat, "f"),
            "booked_total_incl_vat": format(event.booked_total_incl_vat, "f"),
            "difference": format(event.difference, "f"),
            "expected_vat": rates_to_strings(
                rates_from_pairs(r.model_dump(mode="json") for r in event.expected_vat)
            ),
            "booked_vat": booked_vat,
            "details": list(event.details),
            "at": event.occurred_at,
        }
        summary = {"outcome": str(event.outcome), "details": list(event.details)}
        return await self._record(
            CHECKS, key, entry(topic, f"check_{event.outcome}", event, summary), fields, True
        )

    async def alert_event(self, event: AlertEvent, topic: str) -> bool:
        fields = {
            "connection_id": event.connection_id,
            "kind": str(event.kind),
            "component": event.component,
            "reason_code": event.reason_code,
            "reason": event.reason,
            "suggestion": event.suggestion,
            "order_ref": event.order_ref,
            "order": event.order.model_dump(mode="json") if event.order else None,
            "at": event.occurred_at,
        }
        summary = {"reason": event.reason, "component": event.component}
        new = entry(topic, f"alert_{event.kind}", event, summary)
        if event.order_ref:
            key = order_key(event.connection_id, event.order_ref)
            if event.order is not None:
                fields["placed_on"] = event.order.placed_on.isoformat()
            return await self._record(ORDER_ALERTS, key, new, fields, True)
        return await self._record(CONNECTION_ALERTS, event.connection_id, new, fields, True)

    async def settings_applied(self, event: SettingsApplied) -> None:
        coll = self.db[APPLIED]
        doc = await coll.find_one({"_id": event.connection_id}) or {"components": {}}
        known = doc["components"].get(event.component)
        if known is not None and known["version"] >= event.version:
            return
        doc["components"][event.component] = {"version": event.version, "at": event.occurred_at}
        await coll.replace_one({"_id": event.connection_id}, doc, upsert=True)

    async def answer(self, event: ConnectionAnswer) -> None:
        coll = self.db[ANSWERS]
        doc = await coll.find_one({"_id": event.request_id}) or {"components": {}}
        doc["connection_id"] = event.connection_id
        doc["kind"] = str(event.kind)
        previous = doc["components"].get(event.component)
        if previous is not None and previous["at"] > event.occurred_at.astimezone(UTC):
            return  # an older progress report after a newer one
        answer = mask(event.model_dump(mode="json"))
        answer["at"] = event.occurred_at
        doc["components"][event.component] = answer
        await coll.replace_one({"_id": event.request_id}, doc, upsert=True)
        if event.kind == "test_ledger" and (event.accounts or event.vat_codes):
            await self._catalog(event, "ledger", ["accounts", "vat_codes"])
        if event.kind == "test_shop" and event.order_states:
            await self._catalog(event, "shop", ["order_states"])

    async def _catalog(self, event: ConnectionAnswer, side: str, names: list[str]) -> None:
        """What the ledger (accounts, VAT codes) or shop (order states) offers: settings are
        validated against the latest such answer."""
        data: Document = {
            name: [c.model_dump(mode="json") for c in getattr(event, name)] for name in names
        }
        data.update(
            connection_id=event.connection_id,
            at=event.occurred_at,
            component=event.component,
            request_id=event.request_id,
        )
        await self.db[CATALOGS].replace_one(
            {"_id": f"{event.connection_id}:{side}"}, data, upsert=True
        )

    # --- written by the web pages -------------------------------------------------

    async def record_action(
        self,
        action_id: str,
        connection_id: str,
        order_ref: str,
        kind: str,
        by: str,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        """A command the dashboard sent for an order, for its timeline (one insert each)."""
        try:
            await self.db[ORDER_ACTIONS].insert_one(
                {
                    "_id": action_id,
                    "key": order_key(connection_id, order_ref),
                    "connection_id": connection_id,
                    "kind": kind,
                    "by": by,
                    "at": now(),
                    "details": dict(details or {}),
                }
            )
        except DuplicateKeyError:
            pass

    # --- queries ------------------------------------------------------------------

    async def order_documents(self, connection_id: str, order_ref: str) -> dict[str, Any]:
        """Every source's document of one order, by `_id` (one index lookup each)."""
        key = order_key(connection_id, order_ref)
        found: dict[str, Any] = {}
        for name in ORDER_SOURCES:
            found[name] = await self.db[name].find_one({"_id": key})
        found[ORDER_ACTIONS] = [d async for d in self.db[ORDER_ACTIONS].find({"key": key})]
        return found

    async def connection_documents(self, connection_id: str) -> dict[str, dict[str, Document]]:
        """Every order's documents of one connection, per source and order key."""
        return (await self.documents_for([connection_id]))[connection_id]

    async def documents_for(
        self, connection_ids: list[str]
    ) -> dict[str, dict[str, dict[str, Document]]]:
        """Per connection, every order's documents (without their events) per source and
        order key: one query per collection, whatever the number of connections."""
        found: dict[str, dict[str, dict[str, Document]]] = {
            cid: {name: {} for name in (*ORDER_SOURCES, ORDER_ACTIONS)} for cid in connection_ids
        }
        if not connection_ids:
            return found
        query = {"connection_id": {"$in": list(connection_ids)}}
        for name in ORDER_SOURCES:
            async for doc in self.db[name].find(query, {"events": 0}):
                found[doc["connection_id"]][name][doc["_id"]] = doc
        async for action in self.db[ORDER_ACTIONS].find(query):
            actions = found[action["connection_id"]][ORDER_ACTIONS]
            latest = actions.get(action["key"])
            if latest is None or action["at"] > latest["at"]:
                actions[action["key"]] = action
        return found

    async def connection_alerts(self, connection_ids: list[str]) -> dict[str, Document]:
        cursor = self.db[CONNECTION_ALERTS].find({"_id": {"$in": list(connection_ids)}})
        return {d["_id"]: d async for d in cursor}

    async def connection_alert(self, connection_id: str) -> Document | None:
        return await self.db[CONNECTION_ALERTS].find_one({"_id": connection_id})

    async def applied_versions(self, connection_id: str) -> dict[str, Document]:
        doc = await self.db[APPLIED].find_one({"_id": connection_id})
        return dict(doc["components"]) if doc else {}

    async def answers_for(self, request_id: str) -> dict[str, Document]:
        doc = await self.db[ANSWERS].find_one({"_id": request_id})
        return dict(doc["components"]) if doc else {}

    async def catalog(self, connection_id: str, side: str) -> Document | None:
        return await self.db[CATALOGS].find_one({"_id": f"{connection_id}:{side}"})

"""One order as the merchant sees it: its state from every source's document, and its
timeline across services. Pure functions over the read model's documents."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from .readmodel import BOOKINGS, CHECKS, ORDER_ACTIONS, ORDER_ALERTS, SHOP_ORDERS

Document = dict[str, Any]


class OrderState(StrEnum):
    WAITING = "waiting"  # received, not booked (yet): the ledger is on it or retrying
    BOOKED = "booked"
    FAILED = "failed"  # the ledger refused it, or retrying stopped: a person must act
    HELD = "held"  # the ledger refused the credentials: the whole connection waits
    CREDITED = "credited"  # cancelled after booking, and credited in the ledger
    CANCELLED = "cancelled"  # cancelled before it was booked: nothing to book


NEEDS_ATTENTION = (OrderState.FAILED, OrderState.HELD, OrderState.WAITING)


@dataclass
class OrderView:
    connection_id: str
    order_ref: str
    shop: Document | None
    booking: Document | None
    check: Document | None
    alert: Document | None
    last_action: Document | None = None
    actions: list[Document] = field(default_factory=list)

    @property
    def state(self) -> OrderState:
        booking = (self.booking or {}).get("state")
        shop = (self.shop or {}).get("state")
        if booking is not None:
            status = booking["status"]
            if status == "credited":
                return OrderState.CREDITED
            if status in ("failed", "held"):
                return OrderState(status)
            newer = shop is not None and shop["revision"] > booking["revision"]
            return OrderState.WAITING if newer else OrderState.BOOKED
        alert = (self.alert or {}).get("state")
        if alert is not None and alert["kind"] in ("persistent_failure", "ingest_failure"):
            return OrderState.FAILED
        if shop is not None and shop.get("cancelled"):
            return OrderState.CANCELLED
        return OrderState.WAITING

    def _first(self, name: str) -> Any:
        for doc in (self.shop, self.booking, self.alert, self.check):
            state = (doc or {}).get("state") or {}
            if state.get(name) is not None:
                return state[name]
            order = state.get("order") or {}
            if order.get(name) is not None:
                return order[name]
        return None

    @property
    def order_number(self) -> str:
        return str(self._first("order_number") or self.order_ref)

    @property
    def placed_on(self) -> date | None:
        value = (self.shop or {}).get("placed_on") or self._first("placed_on")
        return date.fromisoformat(value) if value else None

    @property
    def customer_name(self) -> str | None:
        return self._first("customer_name")

    @property
    def currency(self) -> str:
        return str(self._first("currency") or "EUR")

    @property
    def shop_total(self) -> Decimal | None:
        value = self._first("total_incl_vat")
        return Decimal(str(value)) if value is not None else None

    @property
    def shop_vat(self) -> dict[str, Decimal]:
        """VAT per rate as the shop charged it: the check's figure, else the order's."""
        check = (self.check or {}).get("state")
        if check and check.get("expected_vat"):
            return {r: Decimal(a) for r, a in check["expected_vat"].items()}
        shop = (self.shop or {}).get("state")
        return {r: Decimal(a) for r, a in (shop or {}).get("vat", {}).items()}

    @property
    def ledger_total(self) -> Decimal | None:
        check = (self.check or {}).get("state")
        return Decimal(check["booked_total_incl_vat"]) if check else None

    @property
    def ledger_vat(self) -> dict[str, Decimal] | None:
        check = (self.check or {}).get("state")
        if not check or check.get("booked_vat") is None:
            return None
        return {r: Decimal(a) for r, a in check["booked_vat"].items()}

    @property
    def mismatch(self) -> bool:
        return ((self.check or {}).get("state") or {}).get("outcome") == "mismatch"

    @property
    def failure(self) -> Document | None:
        """Reason, suggestion and code of what is wrong (the ledger's or an alert's words)."""
        state = self.state
        booking = (self.booking or {}).get("state") or {}
        if state in (OrderState.FAILED, OrderState.HELD) and booking.get("failure"):
            return dict(booking["failure"])
        alert = (self.alert or {}).get("state")
        if state is OrderState.FAILED and alert:
            return {
                "reason_code": alert["reason_code"],
                "reason": alert["reason"],
                "suggestion": alert["suggestion"],
            }
        return None

    @property
    def ledger_ref(self) -> Document | None:
        for doc in (self.booking, self.check):
            ref = ((doc or {}).get("state") or {}).get("ledger_ref")
            if ref:
                return dict(ref)
        return None

    @property
    def received_at(self) -> datetime | None:
        events = (self.shop or {}).get("events") or []
        return events[0]["at"] if events else None

    def timeline(self) -> list[Document]:
        """Every event of the order across services, oldest first."""
        entries: list[Document] = []
        for doc in (self.shop, self.booking, self.check, self.alert):
            entries.extend((doc or {}).get("events") or [])
        for action in self.actions:
            entries.append(
                {
                    "event_id": action["_id"],
                    "topic": action.get("details", {}).get("topic", "dashboard"),
                    "kind": f"action_{action['kind']}",
                    "at": action["at"],
                    "source": "dashboard",
                    "summary": {"by": action["by"], **action.get("details", {})},
                    "payload": action.get("details", {}).get("payload"),
                }
            )
        return sorted(entries, key=lambda e: e["at"])


def order_view(connection_id: str, order_ref: str, docs: Mapping[str, Any]) -> OrderView | None:
    """From `ReadModel.order_documents`; None when no source has heard of the order."""
    view = OrderView(
        connection_id,
        order_ref,
        docs.get(SHOP_ORDERS),
        docs.get(BOOKINGS),
        docs.get(CHECKS),
        docs.get(ORDER_ALERTS),
        actions=list(docs.get(ORDER_ACTIONS) or []),
    )
    if not any((view.shop, view.booking, view.check, view.alert)):
        return None
    if view.actions:
        view.last_action = max(view.actions, key=lambda a: a["at"])
    return view


def order_views(connection_id: str, docs: Mapping[str, Mapping[str, Document]]) -> list[OrderView]:
    """From `ReadModel.connection_documents`: every order of the connection, newest first."""
    keys: set[str] = set()
    for name in (SHOP_ORDERS, BOOKINGS, CHECKS, ORDER_ALERTS):
        keys.update(docs.get(name, {}))
    views = []
    for key in keys:
        order_ref = key.partition(":")[2]
        view = OrderView(
            connection_id,
            order_ref,
            docs.get(SHOP_ORDERS, {}).get(key),
            docs.get(BOOKINGS, {}).get(key),
            docs.get(CHECKS, {}).get(key),
            docs.get(ORDER_ALERTS, {}).get(key),
            last_action=docs.get(ORDER_ACTIONS, {}).get(key),
        )
        views.append(view)
    return sorted(views, key=lambda v: (v.placed_on or date.min, v.order_number), reverse=True)


def filter_views(
    views: Iterable[OrderView], states: Iterable[OrderState], since: date | None = None
) -> list[OrderView]:
    wanted = set(states)
    return [
        v
        for v in views
        if v.state in wanted and (since is None or (v.placed_on and v.placed_on >= since))
    ]

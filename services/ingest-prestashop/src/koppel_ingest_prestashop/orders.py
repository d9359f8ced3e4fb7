"""What the runtime needs to know about a PrestaShop order before mapping it: is it
bookable (the connection's trigger), cancelled, did its list item change. Pure.

States are decided by their flags, not their ids (§10): merchants and modules add
states. The trigger (`shop.options.trigger_statuses`) holds `order_states` ids chosen per
connection, and/or the word `paid` for any state with PrestaShop's paid flag.

PrestaShop has no "cancelled" flag. A state cancels an order when its e-mail template is
the install's `order_canceled` or `refund` (the default Canceled and Refunded states);
a state without any template counts when it has the default install's id 6 or 7
(assumption: merchants' own cancel states without a template are not recognised).
An order whose items and shipping all went back on credit slips is cancelled too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from koppel_contracts import OrderStatus, OrderSummary, content_hash
from koppel_ingest import Candidate, OrderUnreadable, ShopOrder

from .records import Order, Slip, State
from .refunds import refunded_entirely
from .webservice import MappingError, shop_moment

CANCEL_TEMPLATES = frozenset({"order_canceled", "refund"})
DEFAULT_CANCEL_STATES = frozenset({6, 7})  # PS_OS_CANCELED, PS_OS_REFUND of a fresh install

# What, in a list item of `GET /api/orders?display=full`, shows a change worth a fetch.
FINGERPRINT_FIELDS = (
    "date_upd",
    "current_state",
    "reference",
    "id_customer",
    "id_address_invoice",
    "id_address_delivery",
    "id_currency",
    "total_paid_tax_incl",
    "total_paid_tax_excl",
)


@dataclass(frozen=True)
class Trigger:
    """When an order becomes bookable: the paid flag and/or states by id."""

    paid: bool
    states: frozenset[int]

    @classmethod
    def parse(cls, entries: Iterable[str]) -> Trigger:
        """`["paid", "3"]`: any paid state, or state 3. Unknown entries are ignored."""
        cleaned = [entry.strip().lower() for entry in entries]
        return cls(
            paid="paid" in cleaned,
            states=frozenset(int(entry) for entry in cleaned if entry.isdigit()),
        )

    def holds(self, state: State | None) -> bool:
        if state is None or cancels(state):
            return False
        return (self.paid and state.paid) or state.id in self.states


def cancels(state: State) -> bool:
    if state.templates:
        return bool(state.templates & CANCEL_TEMPLATES)
    return state.id in DEFAULT_CANCEL_STATES


def is_cancelled(order: Order, state: State | None, slips: Iterable[Slip]) -> bool:
    return (state is not None and cancels(state)) or refunded_entirely(order, list(slips))


def status_of(state: State | None, cancelled: bool) -> OrderStatus:
    """The canonical status (progress only: it never makes an amendment)."""
    if cancelled or (state is not None and cancels(state)):
        return OrderStatus.CANCELLED
    if state is None:
        return OrderStatus.NEW
    if state.shipped:
        return OrderStatus.SHIPPED
    return OrderStatus.PROCESSING if state.paid else OrderStatus.AWAITING_PAYMENT


def fingerprint(item: Mapping[str, Any], slips: Iterable[Mapping[str, Any]] = ()) -> str:
    """The same for a list item and for the single order (both give these fields), with
    the order's credit slips: their ids and `date_upd` (a slip does not move the order)."""
    marks: dict[str, Any] = {name: str(item.get(name)) for name in FINGERPRINT_FIELDS}
    slip_marks = sorted((str(s.get("id")), str(s.get("date_upd"))) for s in slips)
    if slip_marks:  # an order without slips keeps the fingerprint it always had
        marks["slips"] = [list(mark) for mark in slip_marks]
    return content_hash(marks)


def candidate(
    item: Mapping[str, Any],
    states: Mapping[int, State],
    trigger: Trigger,
    slips: Iterable[Mapping[str, Any]] = (),
) -> Candidate:
    """A list item and the order's credit slips: enough to skip a fetch. An order not
    bookable yet is left `None`
    (not False), so the runtime reads it once and then watches it on every poll: a state
    whose paid flag changes, or a trigger that now includes its state, make it bookable
    without moving its `date_upd`."""
    try:
        state = states.get(int(item.get("current_state")))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        state = None
    source_order_id = str(item.get("id"))
    marks = fingerprint(item, slips)
    if state is not None and cancels(state):
        return Candidate(source_order_id, fingerprint=marks, bookable=False, cancelled=True)
    return Candidate(
        source_order_id,
        fingerprint=marks,
        bookable=True if trigger.holds(state) else None,
        cancelled=False if state is not None else None,
    )


@dataclass(frozen=True)
class Fetched:
    """One order as `fetch` read it: the order, its credit slips, its current state."""

    order: Order
    slips: tuple[Slip, ...]
    state: State | None
    fingerprint: str


def observe(fetched: Fetched, trigger: Trigger, zone: ZoneInfo, currency: str | None) -> ShopOrder:
    """The order as the runtime sees it; OrderUnreadable when not even its placing time
    can be read."""
    order = fetched.order
    number = order.reference or str(order.id)
    try:
        placed_at = shop_moment(order.date_add, zone, "date_add")
    except MappingError as error:
        raise OrderUnreadable(str(error), number=number) from None
    cancelled = is_cancelled(order, fetched.state, fetched.slips)
    summary = (
        OrderSummary(
            order_number=number,
            placed_on=placed_at.date(),
            total_incl_vat=order.total_paid_tax_incl,
            currency=currency,
        )
        if currency
        else None
    )
    return ShopOrder(
        source_order_id=str(order.id),
        placed_at=placed_at,
        bookable=not cancelled and trigger.holds(fetched.state),
        cancelled=cancelled,
        order_number=number,
        source_status=str(order.current_state),
        fingerprint=fetched.fingerprint,
        summary=summary,
        payload=fetched,
    )

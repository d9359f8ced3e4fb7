"""Topic names, their key rule, and the dead-letter naming rule."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from .alerts import AlertEvent
from .booking import BookingEvent, CheckEvent
from .commands import ConnectionAnswer, ConnectionRequest, LedgerCommand, SettingsApplied
from .connection import ConnectionSettingsEvent
from .order import OrderEvent

KEY_SEPARATOR = ":"
DLQ_SUFFIX = ".dlq"

# Headers a dead letter carries, so an operator can see what failed and where
# it came from, and the re-publish command knows where to send it back.
DLQ_HEADER_ERROR = "x-koppel-error"
DLQ_HEADER_ORIGINAL_TOPIC = "x-koppel-original-topic"
DLQ_HEADER_ORIGINAL_PARTITION = "x-koppel-original-partition"
DLQ_HEADER_ORIGINAL_OFFSET = "x-koppel-original-offset"
DLQ_HEADER_CONSUMER = "x-koppel-consumer"
DLQ_HEADER_FAILED_AT = "x-koppel-failed-at"


@dataclass(frozen=True)
class Topic:
    name: str
    event: type[BaseModel]
    key_rule: str
    compacted: bool = False

    @property
    def dead_letter(self) -> str:
        return dead_letter_topic(self.name)


def order_key(connection_id: str, order_ref: str) -> str:
    """`connection_id:order_ref`: one order's events stay in order on one partition."""
    return f"{connection_id}{KEY_SEPARATOR}{order_ref}"


def split_order_key(key: str) -> tuple[str, str]:
    connection_id, _, order_ref = key.partition(KEY_SEPARATOR)
    if not connection_id or not order_ref:
        raise ValueError(f"not an order key (connection_id:order_ref): {key!r}")
    return connection_id, order_ref


def event_key(event: BaseModel) -> str:
    """The message key of any contract event: per order where there is one, else per connection."""
    connection_id: str = event.connection_id  # type: ignore[attr-defined]
    order_ref = getattr(event, "order_ref", None)
    return order_key(connection_id, order_ref) if order_ref else connection_id


def dead_letter_topic(topic: str) -> str:
    return f"{topic}{DLQ_SUFFIX}"


CONNECTIONS = Topic(
    "config.connections.v1", ConnectionSettingsEvent, "connection_id", compacted=True
)
SHOP_ORDERS = Topic("shop.orders.v1", OrderEvent, "connection_id:order_ref")
LEDGER_BOOKINGS = Topic("ledger.bookings.v1", BookingEvent, "connection_id:order_ref")
LEDGER_CHECKS = Topic("ledger.checks.v1", CheckEvent, "connection_id:order_ref")
OPS_ALERTS = Topic("ops.alerts.v1", AlertEvent, "connection_id")
LEDGER_COMMANDS = Topic("ledger.commands.v1", LedgerCommand, "connection_id[:order_ref]")
OPS_REQUESTS = Topic("ops.requests.v1", ConnectionRequest, "connection_id")
OPS_ANSWERS = Topic("ops.answers.v1", ConnectionAnswer, "connection_id")
SETTINGS_APPLIED = Topic("config.applied.v1", SettingsApplied, "connection_id")

ALL_TOPICS: tuple[Topic, ...] = (
    CONNECTIONS,
    SHOP_ORDERS,
    LEDGER_BOOKINGS,
    LEDGER_CHECKS,
    OPS_ALERTS,
    LEDGER_COMMANDS,
    OPS_REQUESTS,
    OPS_ANSWERS,
    SETTINGS_APPLIED,
)

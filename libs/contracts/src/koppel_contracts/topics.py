"""Topic names, their key rule, and the dead-letter naming rule."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from .alerts import AlertEvent
from .booking import BookingEvent, CheckEvent
from .commands import ConnectionAnswer, ConnectionRequest, LedgerCommand, SettingsApplied
from .connection import ConnectionSettingsEvent
from .order import OrderEvent
from .privacy import CustomerKeyEvent

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
    # What travels on the topic, for people: the AsyncAPI documents every service serves
    # (and `libs/contracts/schemas/asyncapi/`) describe each channel with it.
    description: str = ""
    # Topic configs beyond the cleanup policy (`koppel topics ensure` applies them).
    configs: tuple[tuple[str, str], ...] = ()

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
    """The message key of any contract event: per order where there is one, per customer key
    on the privacy topic, else per connection."""
    connection_id: str = event.connection_id  # type: ignore[attr-defined]
    order_ref = getattr(event, "order_ref", None) or getattr(event, "key_id", None)
    return order_key(connection_id, order_ref) if order_ref else connection_id


def dead_letter_topic(topic: str) -> str:
    return f"{topic}{DLQ_SUFFIX}"


CONNECTIONS = Topic(
    "config.connections.v1",
    ConnectionSettingsEvent,
    "connection_id",
    compacted=True,
    description="A connection's settings, whole and versioned (the latest version wins); "
    "credentials are enc:v1: ciphertexts. A message without a body (tombstone) removes "
    "the connection.",
)
SHOP_ORDERS = Topic(
    "shop.orders.v1",
    OrderEvent,
    "connection_id:order_ref",
    description="A revision of a paid shop order as a canonical order: created, amended "
    "or cancelled.",
)
LEDGER_BOOKINGS = Topic(
    "ledger.bookings.v1",
    BookingEvent,
    "connection_id:order_ref",
    description="What the ledger service did with an order: booked, replaced, credited, "
    "failed or held.",
)
LEDGER_CHECKS = Topic(
    "ledger.checks.v1",
    CheckEvent,
    "connection_id:order_ref",
    description="The read-back of a booking from the ledger: matched or mismatch.",
)
OPS_ALERTS = Topic(
    "ops.alerts.v1",
    AlertEvent,
    "connection_id",
    description="What the people behind a connection should hear about: a connection "
    "broken or restored, a persistent failure, an ingest failure.",
)
LEDGER_COMMANDS = Topic(
    "ledger.commands.v1",
    LedgerCommand,
    "connection_id[:order_ref]",
    description="Book an order again now (Verwerk), or every order of a connection in "
    "given states since a moment (Verwerk alle); the ledger service of the connection's "
    "ledger acts on it.",
)
OPS_REQUESTS = Topic(
    "ops.requests.v1",
    ConnectionRequest,
    "connection_id",
    description="Test a connection's shop or ledger (with settings that may not be saved "
    "yet), or import historic orders; answered by the service that owns that API.",
)
OPS_ANSWERS = Topic(
    "ops.answers.v1",
    ConnectionAnswer,
    "connection_id",
    description="The answers to one request, with its request id: running with "
    "progress, then done or failed with problems in the merchant's language.",
)
SETTINGS_APPLIED = Topic(
    "config.applied.v1",
    SettingsApplied,
    "connection_id",
    description="A service took a connection's settings version.",
)
PRIVACY_KEYS = Topic(
    "privacy.keys.v1",
    CustomerKeyEvent,
    "connection_id:key_id",
    compacted=True,
    description="A customer's key for the personal data in their orders (encrypted with the "
    "platform key), or the marker that it was erased; compaction then drops the key.",
    # An erased key's record leaves the log at the next compaction: segments roll within
    # an hour and any dirt is worth cleaning, so that is about an hour, not a week.
    configs=(("segment.ms", "3600000"), ("min.cleanable.dirty.ratio", "0.01")),
)

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
    PRIVACY_KEYS,
)

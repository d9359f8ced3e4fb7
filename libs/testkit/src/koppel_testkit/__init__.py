"""Test support for Koppel: real infrastructure fixtures, factories, Kafka helpers."""

from .factories import charge, line, make_order, make_order_event
from .infrastructure import Infrastructure, provide_infrastructure
from .kafka import create_topics, publish_raw, read_events, read_records
from .smtp import Received, SmtpCatcher
from .waiting import eventually

__all__ = [
    "Infrastructure",
    "Received",
    "SmtpCatcher",
    "charge",
    "create_topics",
    "eventually",
    "line",
    "make_order",
    "make_order_event",
    "provide_infrastructure",
    "publish_raw",
    "read_events",
    "read_records",
]

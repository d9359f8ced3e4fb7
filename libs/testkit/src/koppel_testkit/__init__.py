"""Test support for Koppel: real infrastructure fixtures, factories, Kafka helpers."""

from .factories import charge, line, make_order, make_order_event
from .infrastructure import Infrastructure, provide_infrastructure
from .kafka import create_topics, publish_raw, read_events, read_records

__all__ = [
    "Infrastructure",
    "charge",
    "create_topics",
    "line",
    "make_order",
    "make_order_event",
    "provide_infrastructure",
    "publish_raw",
    "read_events",
    "read_records",
]
